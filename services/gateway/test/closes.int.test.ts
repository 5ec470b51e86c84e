// Every close code the gateway sends, keepalive frames, control requests, and survival after hostile input.
import { afterEach, describe, expect, it } from 'vitest';
import { connectWs, waitFor, type WsTestClient } from '@herald/testkit';
import { mint, nowSec, sleep, startTestGateway, type TestGateway } from './helpers.js';

let gw: TestGateway | undefined;
const clients: WsTestClient[] = [];
afterEach(async () => {
  if (gw) expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200); // the node survived whatever the test sent
  for (const c of clients.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

async function setup(env: Record<string, string> = {}): Promise<TestGateway> {
  gw = await startTestGateway(env);
  return gw;
}

async function client(g: TestGateway, claims: Record<string, unknown> = {}): Promise<WsTestClient> {
  const c = await connectWs(g.url, { token: mint(claims) });
  clients.push(c);
  return c;
}

describe('bad frames', () => {
  it('1003 for a binary frame; 1007 for invalid JSON and for JSON that is not an object', async () => {
    const g = await setup();
    const cases: [string, (c: WsTestClient) => void, number][] = [
      ['binary', (c) => c.ws.send(Buffer.from('{"op":"ping","id":1}'), { binary: true }), 1003],
      ['not json', (c) => c.send('{"op":'), 1007],
      ['array', (c) => c.send('[1,2]'), 1007],
      ['string', (c) => c.send('"ping"'), 1007],
    ];
    for (const [name, act, code] of cases) {
      const c = await client(g);
      act(c);
      expect((await c.closed).code, name).toBe(code);
    }
    expect(await g.metric('herald_closes_total', { code: '1007' })).toBe(3);
  });

  it('invalid UTF-8 in a text frame ends the connection (uWS refuses it before the gateway: 1006, not 1007)', async () => {
    const g = await setup();
    const c = await client(g);
    c.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    // uWS validates text frames in C++ and drops the TCP connection without a close frame.
    expect((await c.closed).code).toBe(1006);
  });

  it('1009 for a frame over WS_MAX_FRAME_BYTES', async () => {
    const g = await setup({ WS_MAX_FRAME_BYTES: '1024' });
    const c = await client(g);
    c.send({ op: 'ping', id: 1, pad: 'x'.repeat(1100) });
    expect((await c.closed).code).toBe(1009);
  });

  it('4029 for a command flood', async () => {
    const g = await setup({ CMD_RATE: '5', CMD_BURST: '5' });
    const c = await client(g);
    for (let i = 0; i < 20; i++) c.send({ op: 'ping', id: i });
    expect(await c.closed).toMatchObject({ code: 4029 });
    expect(c.ofOp('pong').length).toBeLessThanOrEqual(6);
  });

  it('4029 after BAD_FRAME_LIMIT recoverable bad frames, each answered with err before that', async () => {
    const g = await setup({ BAD_FRAME_LIMIT: '3' });
    const c = await client(g);
    for (let i = 0; i < 3; i++) c.send({ op: 'nope', id: i });
    expect((await c.closed).code).toBe(4029);
    expect(c.ofOp('err').map((e) => e.id)).toEqual([0, 1]);
  });
});

describe('keepalive and token expiry', () => {
  it('sends hb after heartbeat ms without a direct send', async () => {
    const g = await setup({ HEARTBEAT_MS: '1000' });
    const c = await client(g);
    await c.waitFrame((f) => f.op === 'hb', 3000);
    await waitFor(() => c.ofOp('hb').length >= 2, 3000, 'a second hb');
  });

  it('sends refresh before exp, then closes with 4001 at exp', async () => {
    const g = await setup({ REFRESH_BEFORE_S: '60' });
    const exp = nowSec() + 2;
    const c = await client(g, { exp });
    const refresh = await c.waitFrame((f) => f.op === 'refresh', 3000);
    expect(refresh).toEqual({ op: 'refresh', exp });
    expect(await c.closed).toMatchObject({ code: 4001 });
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(exp);
  });

  it('keeps a connection whose auth moved exp', async () => {
    const g = await setup({ REFRESH_BEFORE_S: '60' });
    const exp = nowSec() + 2;
    const c = await client(g, { exp });
    await c.waitFrame((f) => f.op === 'refresh', 3000);
    expect(await c.request({ op: 'auth', id: 1, token: mint({ exp: nowSec() + 3600 }) })).toMatchObject({ op: 'ack' });
    await sleep((exp - nowSec() + 1.5) * 1000);
    expect(await c.request({ op: 'ping', id: 2 })).toEqual({ op: 'pong', id: 2 });
  });
});

describe('control requests through the bus', () => {
  it('disconnect closes every connection of the user with the given code; presence counts', async () => {
    const g = await setup();
    const a = await client(g, { sub: 'zed' });
    const b = await client(g, { sub: 'zed' });
    const other = await client(g, { sub: 'amy' });
    await other.request({ op: 'sub', id: 1, topics: ['news'] });
    expect(await g.bus.presence({ user: 'zed' })).toBe(2);
    expect(await g.bus.presence({ topic: 'news' })).toBe(1);
    expect(await g.bus.disconnect('zed', 4003, 'removed by admin')).toBe(2);
    for (const c of [a, b]) expect(await c.closed).toEqual({ code: 4003, reason: 'removed by admin' });
    expect(await other.request({ op: 'ping', id: 2 })).toEqual({ op: 'pong', id: 2 });
    expect(await g.bus.presence({ user: 'zed' })).toBe(0);
  });
});

describe('slow consumer', () => {
  it('closes a socket that stops reading with 4008 once its send buffer passes the limit', async () => {
    const g = await setup({ WS_MAX_BACKPRESSURE_BYTES: String(64 * 1024) });
    const c = await client(g);
    await c.request({ op: 'sub', id: 1, topics: ['news'] });
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const payload = 'y'.repeat(8000);
    // Publish ~3 MB/s until the sweep (1 s) sees the buffer over 64 KiB; the kernel's socket buffers fill first.
    await waitFor(async () => {
      for (let i = 0; i < 20; i++) await g.publish('topic:news', payload);
      return (await g.metric('herald_slow_consumers_total')) >= 1;
    }, 20_000, 'the slow consumer to be closed', 50);
    socket.resume();
    const info = await c.closed;
    expect(info).toEqual({ code: 4008, reason: 'slow consumer' });
    const seqs = c.ofOp('msg').map((m) => m.seq);
    expect(seqs.length).toBeGreaterThan(0);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? 0); // in order, nothing skipped silently
    expect(await g.metric('herald_closes_total', { code: '4008' })).toBe(1);
  });
});
