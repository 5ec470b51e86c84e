// The gateway as a real process (dist/main.js): hostile input, SIGTERM drain with spread reconnects and 1012, exit 0.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, refusedWs, spawnService, waitFor, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { mint, SECRET } from './helpers.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const WINDOW_MS = 1500;

let svc: ServiceProcess;
let base: string;
beforeAll(async () => {
  svc = await spawnService({
    args: [MAIN],
    env: {
      HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_LOG_LEVEL: 'info',
      HERALD_DRAIN_WINDOW_MS: String(WINDOW_MS), HERALD_DRAIN_TIMEOUT_MS: '8000', HERALD_WS_MAX_FRAME_BYTES: '1024',
    },
  });
  base = `127.0.0.1:${svc.port}`;
});
afterAll(async () => {
  await svc.kill();
});

/** Writes raw bytes on a TCP connection and waits until the server closes it (or 1 s passes). */
function raw(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(svc.port, '127.0.0.1', () => s.write(bytes));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    const done = (): void => resolve(got);
    s.on('close', done);
    s.on('error', done);
    setTimeout(() => s.destroy(), 1000);
  });
}

describe('gateway process', () => {
  it('config errors print every issue and exit 1', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', HERALD_PORT: 'many', HERALD_WS_IDLE_TIMEOUT_S: '3' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/HERALD_PORT[\s\S]*HERALD_WS_IDLE_TIMEOUT_S[\s\S]*exactly one of HERALD_JWT_SECRET/);
  });

  it('stays up after hostile input', async () => {
    await raw(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0, 0, 0]));
    await raw('GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await raw(`GET /v1/ws?token=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(500)}\r\n`);
    await raw('GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer x.y.z\r\n\r\n');
    const c = await connectWs(`ws://${base}/v1/ws`, { token: mint({ sub: 'hostile' }) });
    c.send('x'.repeat(100_000)); // beyond even uWS's own limit
    await c.closed;
    const d = await connectWs(`ws://${base}/v1/ws`, { token: mint({ sub: 'hostile' }) });
    d.ws.send(Buffer.alloc(10), { binary: true });
    expect((await d.closed).code).toBe(1003);
    expect((await fetch(`http://${base}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`http://${base}/metrics`)).text();
    expect(metrics).toMatch(/herald_upgrades_total\{result="ok"[^}]*\} \d+/);
    expect(svc.child.exitCode).toBeNull();
  });

  it('drains on SIGTERM: readyz 503, upgrades 503, reconnect spread over the window, 1012 for the rest, exit 0', async () => {
    const clients: WsTestClient[] = await Promise.all(Array.from({ length: 30 }, (_, i) => connectWs(`ws://${base}/v1/ws`, { token: mint({ sub: `d${i}` }) })));
    // The first five behave like the SDK: leave after `after` ms. The rest ignore the frame.
    for (const c of clients.slice(0, 5)) {
      void c.waitFrame((f) => f.op === 'reconnect', 5000).then((f) => setTimeout(() => void c.close(), f.op === 'reconnect' ? f.after : 0), () => undefined);
    }
    const t0 = Date.now();
    svc.signal('SIGTERM');
    await waitFor(async () => (await fetch(`http://${base}/readyz`)).status === 503, 2000, 'readyz 503');
    const refused = await refusedWs(`ws://${base}/v1/ws`, { token: mint({ sub: 'late' }) });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    const afters = await Promise.all(clients.map(async (c) => {
      const f = await c.waitFrame((x) => x.op === 'reconnect', 3000);
      return f.op === 'reconnect' ? f.after : -1;
    }));
    for (const a of afters) {
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThan(WINDOW_MS);
    }
    expect(Math.min(...afters)).toBeLessThan(WINDOW_MS / 3);
    expect(Math.max(...afters)).toBeGreaterThan((2 * WINDOW_MS) / 3);
    expect(new Set(afters).size).toBeGreaterThan(20);
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const cl of closes.slice(0, 5)) expect(cl.code).toBe(1000);
    for (const cl of closes.slice(5)) expect(cl.code).toBe(1012);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(await svc.exited).toEqual({ code: 0, signal: null });
  });
});
