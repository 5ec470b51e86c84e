// The publish API process on the in-process memory bus: shared scenarios, hostile input, logs, lifecycle.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, MAIN_JS, OTHER_KEY, errorCode, rawPost, startApi, type Api } from './helpers.js';
import { publishApiSuite } from './suite.js';

let api: Api;

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await api?.proc.kill();
});

describe('publish API on the memory bus', () => {
  publishApiSuite(() => api);

  it('exposes the bus connection as herald_bus_connected', async () => {
    const text = await (await fetch(`${api.base}/metrics`)).text();
    expect(text).toMatch(/^herald_bus_connected(\{[^}]*\})? 1$/m);
  });

  it('logs listening with the port, and readyz is ready', async () => {
    expect(api.proc.logs().find((r) => r['msg'] === 'listening')).toMatchObject({ port: api.proc.port });
    expect((await fetch(`${api.base}/readyz`)).status).toBe(200);
  });

  it('survives malformed bodies of many shapes', async () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const bodies: string[] = [
      '', ' ', 'null', 'true', '1', '"x"', '[]', '[{"topic":"a","data":1}]', '{', '}', '{"topic":"a","data":}', '{"topic":"a",}',
      '{"topic":"a","data":1}garbage', '\u0000', '\ufeff{}', '{"__proto__":{"x":1},"topic":"a","data":1}', '{"constructor":1}',
      '{"topic":"a","data":1,"topic":"b"}', '{"topic":["a"],"data":1}', '{"topics":"a","data":1}', '{"topics":[],"data":1}',
      '{"users":[1,2],"data":1}', '{"topic":"a","data":1,"id":{}}', `{"topics":${deep(100_000)},"data":1}`,
      `{"topic":"a","data":${deep(200_000)}}`, `{"messages":${deep(1000)}}`, '{"topic":"a","data":1e999}', '{"topic":"\\ud800","data":1}',
      '{"user":"\\ud800","data":1}', 'x'.repeat(100_000),
    ];
    for (const body of bodies) {
      for (const path of ['/v1/publish', '/v1/publish/batch', '/v1/disconnect']) {
        const r = await api.post(path, body);
        // 200 is fine for the odd valid ones (duplicate keys: last wins; 1e999 is Infinity, stored as null).
        expect([200, 400], `${path} ${body.slice(0, 40)}`).toContain(r.status);
        if (r.status === 400) expect(errorCode(r)).toMatch(/^invalid_/);
      }
    }
    const invalidUtf8 = await rawPost(api.proc.port, '/v1/publish', {
      chunks: [Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      contentLength: 8,
    });
    expect(JSON.parse(invalidUtf8.body)).toMatchObject({ error: { code: 'invalid_body' } });
    expect((await fetch(`${api.base}/healthz`)).status).toBe(200);
    expect((await api.post('/v1/publish', { topic: 'still-alive', data: 1 })).status).toBe(200);
  });

  it('serves its metrics', async () => {
    const text = await (await fetch(`${api.base}/metrics`)).text();
    expect(text).toMatch(/herald_publish_requests_total\{route="publish",status="200"/);
    expect(text).toMatch(/herald_publish_requests_total\{route="unknown",status="404"/);
    expect(text).toMatch(/herald_publish_messages_total\{result="stored"/);
    expect(text).toMatch(/herald_publish_duration_seconds_bucket/);
  });

  it('logs a request id and counts on publish, a warning never, and never a key or data', async () => {
    await api.post('/v1/publish', { topic: 'logged', data: { secret: 'PAYLOAD-MARKER' } });
    const rec = await api.proc.waitLog((r) => r['msg'] === 'published' && r['route'] === 'publish');
    expect(rec).toMatchObject({ reqId: expect.any(String) as string, messages: 1, targets: 1 });
    const all = api.proc.lines.join('\n');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain(OTHER_KEY);
    expect(all).not.toContain('wrong-key-wrong-key');
    expect(all).not.toContain('PAYLOAD-MARKER');
    expect(all).not.toMatch(/bearer/i);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After per key', async () => {
    const limited = await startApi({ HERALD_RATE_LIMIT_RPS: '1', HERALD_RATE_LIMIT_BURST: '2' });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await limited.get('/v1/presence?user=1')).status);
      expect(statuses).toEqual([200, 200, 429]);
      const r = await limited.get('/v1/presence?user=1');
      expect(errorCode(r)).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await limited.get('/v1/presence?user=1', { authorization: `Bearer ${OTHER_KEY}` })).status).toBe(200);
    } finally {
      await limited.proc.kill();
    }
  });
});

describe('process lifecycle', () => {
  it('exits 0 on SIGTERM after logging', async () => {
    const p = await startApi();
    p.proc.signal('SIGTERM');
    expect(await p.proc.exited).toEqual({ code: 0, signal: null });
    expect(p.proc.logs().map((r) => r['msg'])).toEqual(expect.arrayContaining(['shutting down', 'stopped']));
  });

  it('exits 1 on a bad configuration, naming every issue and no key', async () => {
    const child = spawn(process.execPath, [MAIN_JS], {
      env: { PATH: process.env['PATH'] ?? '', HERALD_API_KEYS: 'short-secret-1', HERALD_PORT: 'abc' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('HERALD_API_KEYS');
    expect(stderr).toContain('HERALD_PORT');
    expect(stderr).not.toContain('short-secret-1');
  });
});
