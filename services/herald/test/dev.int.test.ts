// The newcomer's path: `herald dev`, a token from the banner or `herald token`, a
// WebSocket client that is not ours, a publish with `herald publish` and with curl-like HTTP.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, runNode, spawnService, waitFor, type ServiceProcess } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');

describe('herald dev (all-in-one, memory bus)', () => {
  let dir: string;
  let dev: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-dev-'));
    dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1' }, cwd: dir });
    base = `127.0.0.1:${dev.port}`;
  });
  afterAll(async () => {
    await dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a ready token, the WebSocket URL and a curl command', async () => {
    // The banner goes to stderr, the `listening` log to stdout: two pipes, read in any order.
    const banner = await waitFor(() => dev.lines.some((l) => l.includes('curl -s')) && dev.lines.join('\n'), 5000, 'the banner');
    expect(banner).toContain(`ws://${base}/v1/ws`);
    expect(banner).toMatch(/Token\s+ey[\w-]+\.[\w-]+\.[\w-]+/);
    expect(banner).toContain(`curl -s -X POST http://${base}/v1/publish`);
  });

  it('delivers a message published with `herald publish` to a ws client holding a `herald token` token', async () => {
    const minted = await runNode([CLI, 'token', '--sub', 'u1', '--topics', 'news,orders.*', '--ttl', '1h'], { cwd: dir });
    expect(minted.code, minted.stderr).toBe(0);
    const token = minted.stdout.trim();
    const ws = await connectWs(`ws://${base}/v1/ws`, { token });
    const welcome = ws.ofOp('welcome')[0];
    expect(welcome).toMatchObject({ user: 'u1', node: expect.any(String), epoch: expect.any(String) });
    const ack = await ws.request({ op: 'sub', id: 's1', topics: ['news', 'orders.eu', 'secret'] });
    expect(ack).toMatchObject({
      op: 'ack',
      results: { 'topic:news': { ok: true }, 'topic:orders.eu': { ok: true }, 'topic:secret': { ok: false, code: 'forbidden' } },
    });
    const published = await runNode([CLI, 'publish', '--url', `http://${base}`, '--topic', 'news', '{"hello":1}'], { cwd: dir });
    expect(published.code, published.stderr).toBe(0);
    const result = JSON.parse(published.stdout) as { results: { ch: string; seq: number }[] };
    expect(result.results[0]?.ch).toBe('topic:news');
    const [msg] = await ws.waitMessages('topic:news', 1);
    expect(msg).toMatchObject({ op: 'msg', ch: 'topic:news', seq: result.results[0]?.seq, prev: 0, data: { hello: 1 } });
    expect(typeof msg?.ts).toBe('number');
    await ws.close();
  });

  it('delivers a user message to the personal channel with seq and prev', async () => {
    const token = (await runNode([CLI, 'token', '--sub', 'user with.dots*', '--ttl', '10m'], { cwd: dir })).stdout.trim();
    const a = await connectWs(`ws://${base}/v1/ws`, { token, via: 'header' });
    const b = await connectWs(`ws://${base}/v1/ws`, { token, via: 'query' });
    for (const n of [1, 2]) {
      const r = await runNode([CLI, 'publish', '--url', `http://${base}`, '--user', 'user with.dots*', JSON.stringify({ n })], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    for (const c of [a, b]) {
      const msgs = await c.waitMessages('user:user with.dots*', 2);
      expect(msgs.map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(msgs[1]?.prev).toBe(msgs[0]?.seq);
      await c.close();
    }
  });

  it('serves the operations endpoints', async () => {
    expect((await fetch(`http://${base}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://${base}/metrics`)).text();
    expect(metrics).toContain('herald_connections');
  });

  it('never logs the token or the API key', async () => {
    const logs = dev.logs().map((r) => JSON.stringify(r)).join('\n');
    const creds = JSON.parse((await import('node:fs')).readFileSync(join(dir, '.herald/dev.json'), 'utf8')) as { jwtSecret: string; apiKey: string };
    expect(logs).not.toContain(creds.apiKey);
    expect(logs).not.toContain(creds.jwtSecret);
    expect(logs).not.toMatch(/ey[\w-]{10,}\.ey[\w-]{10,}\./);
  });
});

describe('herald CLI errors', () => {
  it('reports every configuration problem at once and exits 1', async () => {
    const r = await runNode([CLI, 'gateway'], { env: { HERALD_PORT: 'nope', HERALD_HEARTBEAT_MS: '-1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HERALD_PORT');
    expect(r.stderr).toContain('HERALD_HEARTBEAT_MS');
  });
  it('refuses an unknown command with usage', async () => {
    const r = await runNode([CLI, 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: herald');
  });
  it('token: requires --sub and a valid ttl', async () => {
    const env = { HERALD_JWT_SECRET: 'a-test-secret-of-32-characters!!' };
    expect((await runNode([CLI, 'token'], { env })).code).toBe(2);
    expect((await runNode([CLI, 'token', '--sub', 'u', '--ttl', 'soon'], { env })).code).toBe(2);
    const ok = await runNode([CLI, 'token', '--sub', 'u', '--ttl', '90s'], { env });
    expect(ok.code).toBe(0);
    const payload = JSON.parse(Buffer.from(ok.stdout.trim().split('.')[1] as string, 'base64url').toString()) as { sub: string; exp: number; iat: number };
    expect(payload.sub).toBe('u');
    expect(payload.exp - payload.iat).toBe(90);
  });
});
