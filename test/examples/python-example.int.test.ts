// The Python example of docs/server-sdks.md runs as a user would run it: python3, the standard
// library, a real `herald dev`. Its token must be accepted by the gateway, its publish must reach a
// WebSocket client, its retries must resend the same id after a 503 with Retry-After, and its
// webhook check must accept a Standard-Webhooks signature and refuse a tampered one.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, spawnService, type ServiceProcess } from '@herald/testkit';

const ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'docs/examples/python/herald_example.py');
const CLI = join(ROOT, 'services/herald/dist/cli.js');
const SECRET = 'python-example-secret-0123456789abcdef';
const API_KEY = 'python-example-api-key-0123456789';

function python(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('python3', [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

// Each python3 start costs a second or more on a loaded 2-core machine: generous per-test time.
describe('docs/examples/python/herald_example.py', { timeout: 120_000 }, () => {
  let dir: string;
  let dev: ServiceProcess;
  let api: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-python-'));
    dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY }, cwd: dir });
    api = `http://127.0.0.1:${dev.port}`;
  });
  afterAll(async () => {
    await dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mints a token the gateway accepts and publishes a message a WebSocket client receives', async () => {
    const minted = await python(['token', '--secret', SECRET, '--sub', 'py-user', '--topics', 'news,orders.>', '--ttl', '600']);
    expect(minted.code, minted.stderr).toBe(0);
    const ws = await connectWs(`ws://127.0.0.1:${dev.port}/v1/ws`, { token: minted.stdout.trim() });
    expect(ws.ofOp('welcome')[0]).toMatchObject({ user: 'py-user' });
    expect(await ws.request({ op: 'sub', id: 1, topics: ['orders.eu', 'admin'] })).toMatchObject({
      results: { 'topic:orders.eu': { ok: true }, 'topic:admin': { ok: false, code: 'forbidden' } },
    });
    const published = await python(['publish', '--api', api, '--key', API_KEY, '--topic', 'orders.eu', '{"order":981}']);
    expect(published.code, published.stderr + published.stdout).toBe(0);
    const answer = JSON.parse(published.stdout) as { id: string; results: { ch: string; seq: number }[] };
    const [m] = await ws.waitMessages('topic:orders.eu', 1);
    expect(m).toMatchObject({ seq: answer.results[0]?.seq, id: answer.id, data: { order: 981 } });
    const again = await python(['publish', '--api', api, '--key', API_KEY, '--user', 'py-user', '--id', 'py-1', '{"n":1}']);
    const twice = await python(['publish', '--api', api, '--key', API_KEY, '--user', 'py-user', '--id', 'py-1', '{"n":1}']);
    expect(JSON.parse(twice.stdout)).toMatchObject({ id: 'py-1', results: [{ ch: 'user:py-user', duplicate: true, seq: (JSON.parse(again.stdout) as { results: { seq: number }[] }).results[0]?.seq }] });
    ws.terminate();
  });

  it('reports a refusal with its wire code, without retrying it', async () => {
    const r = await python(['publish', '--api', api, '--key', 'wrong-key', '--topic', 'news', '1']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'unauthorized', status: 401, attempts: 1 } });
  });

  it('retries a 503 after its Retry-After with the same id', async () => {
    const bodies: string[] = [];
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        if (bodies.length === 1) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
          res.end(JSON.stringify({ error: { code: 'bus_unavailable', message: 'nothing was stored' } }));
        } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results: [{ ch: 'topic:news', seq: 5 }] }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const started = Date.now();
      const r = await python(['publish', '--api', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--key', 'k', '--topic', 'news', '{"a":1}']);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(bodies).toHaveLength(2);
      expect(bodies[1]).toBe(bodies[0]);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: (JSON.parse(bodies[0]!) as { id: string }).id, results: [{ seq: 5 }] });
    } finally {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    }
  });

  it('verifies a Standard-Webhooks signature and refuses a tampered body, a wrong key and an old timestamp', async () => {
    const key = Buffer.from('webhook-signing-key-0123456789ab');
    const secret = `whsec_${key.toString('base64')}`;
    const body = JSON.stringify({ type: 'user.offline', user: '42' });
    const sign = (id: string, ts: string, b: string, k: Buffer = key): string => `v1,${createHmac('sha256', k).update(`${id}.${ts}.${b}`).digest('base64')}`;
    const now = String(Math.floor(Date.now() / 1000));
    const verify = (sig: string, ts = now, b = body): Promise<{ code: number | null }> => python(['verify', '--secret', secret, '--id', 'msg_1', '--timestamp', ts, '--signature', sig], b);
    expect((await verify(sign('msg_1', now, body))).code).toBe(0);
    expect((await verify(`v1,bm90LWl0 ${sign('msg_1', now, body)}`)).code).toBe(0); // one of several signatures (key rotation)
    expect((await verify(sign('msg_1', now, body), now, body + ' '))).toMatchObject({ code: 1 });
    expect((await verify(sign('msg_1', now, body, Buffer.from('another-key'))))).toMatchObject({ code: 1 });
    const old = String(Math.floor(Date.now() / 1000) - 3600);
    expect((await verify(sign('msg_1', old, body), old))).toMatchObject({ code: 1 });
  });
});
