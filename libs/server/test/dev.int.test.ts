// @herald/server against a real `herald dev` (gateway + publish API in one process, memory bus):
// every call, the tokens it mints, idempotency, and the typed errors of real refusals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, spawnService, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { HeraldApiError, HeraldServer, mintToken } from '../src/index.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
const SECRET = 'server-sdk-test-secret-0123456789abcdef';
const API_KEY = 'server-sdk-test-api-key-0123456789';

describe('@herald/server against herald dev', () => {
  let dir: string;
  let dev: ServiceProcess;
  let herald: HeraldServer;
  let wsUrl: string;
  const sockets: WsTestClient[] = [];

  const connect = async (sub: string, topics: string[]): Promise<WsTestClient> => {
    const ws = await connectWs(wsUrl, { token: await herald.mintToken({ sub, topics, ttl: 600 }) });
    sockets.push(ws);
    return ws;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-server-sdk-'));
    dev = await spawnService({
      args: [CLI, 'dev'],
      env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY },
      cwd: dir,
    });
    herald = new HeraldServer({ url: `http://127.0.0.1:${dev.port}`, apiKey: API_KEY, jwtSecret: SECRET });
    wsUrl = `ws://127.0.0.1:${dev.port}/v1/ws`;
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mints tokens the gateway accepts, with topics, info and a ttl', async () => {
    const token = await mintToken({ secret: SECRET, sub: 'alice', topics: ['news', 'orders.>'], ttl: '10m', info: { name: 'Alice' } });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'alice', topics: ['news', 'orders.>'], info: { name: 'Alice' } });
    expect(claims.exp! - claims.iat!).toBe(600);
    const ws = await connectWs(wsUrl, { token });
    sockets.push(ws);
    expect(ws.ofOp('welcome')[0]).toMatchObject({ user: 'alice' });
    const ack = await ws.request({ op: 'sub', id: 1, topics: ['news', 'orders.eu.1', 'admin'] });
    expect(ack).toMatchObject({ results: { 'topic:news': { ok: true }, 'topic:orders.eu.1': { ok: true }, 'topic:admin': { ok: false, code: 'forbidden' } } });
  });

  it('refuses bad claims before signing', async () => {
    await expect(mintToken({ secret: SECRET, sub: '' })).rejects.toThrow(TypeError);
    await expect(mintToken({ secret: SECRET, sub: 'a', topics: ['bad..topic'] })).rejects.toThrow(/topic pattern/);
    await expect(mintToken({ secret: SECRET, sub: 'a', ttl: 0 })).rejects.toThrow(/ttl/);
    await expect(new HeraldServer({ url: 'http://127.0.0.1:1', apiKey: 'k' }).mintToken({ sub: 'a' })).rejects.toThrow(/jwtSecret/);
  });

  it('publishes to a topic with a generated id, delivered once', async () => {
    const ws = await connect('bob', ['news']);
    await ws.request({ op: 'sub', id: 1, topics: ['news'] });
    const r = await herald.publish({ topic: 'news', data: { headline: 'Herald ships' } });
    expect(r.results).toEqual([{ ch: 'topic:news', seq: expect.any(Number) }]);
    const [m] = await ws.waitMessages('topic:news', 1);
    expect(m).toMatchObject({ seq: r.results[0]!.seq, id: r.id, data: { headline: 'Herald ships' } });
  });

  it('stores a message once when published twice with the same id', async () => {
    const ws = await connect('carol', []);
    const first = await herald.publish({ user: 'carol', data: { n: 1 }, id: 'carol-order-1' });
    const again = await herald.publish({ user: 'carol', data: { n: 1 }, id: 'carol-order-1' });
    expect(again.results).toEqual([{ ch: 'user:carol', seq: first.results[0]!.seq, duplicate: true }]);
    await herald.publish({ user: 'carol', data: { n: 2 } });
    const msgs = await ws.waitMessages('user:carol', 2);
    expect(msgs.map((m) => m.data)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('publishes a batch in order, one id per message', async () => {
    const ws = await connect('dave', []);
    const results = await herald.publishBatch([
      { user: 'dave', data: 'a' },
      { users: ['dave', 'erin'], data: 'b' },
      { topic: 'news', data: 'c' },
    ]);
    expect(results.map((r) => r.results.map((x) => x.ch))).toEqual([['user:dave'], ['user:dave', 'user:erin'], ['topic:news']]);
    expect(new Set(results.map((r) => r.id)).size).toBe(3);
    const msgs = await ws.waitMessages('user:dave', 2);
    expect(msgs.map((m) => [m.data, m.id])).toEqual([['a', results[0]!.id], ['b', results[1]!.id]]);
  });

  it('reads history after a seq', async () => {
    const a = await herald.publish({ topic: 'history.t', data: 1 });
    const b = await herald.publish({ topic: 'history.t', data: 2 });
    const page = await herald.history({ ch: 'topic:history.t', since: a.results[0]!.seq });
    expect(page).toMatchObject({ epoch: expect.any(String), complete: true, truncated: false });
    expect(page.messages).toEqual([{ ch: 'topic:history.t', seq: b.results[0]!.seq, prev: a.results[0]!.seq, ts: expect.any(Number), data: 2, id: b.id }]);
    const limited = await herald.history({ ch: 'topic:history.t', limit: 1 });
    expect(limited).toMatchObject({ truncated: true, messages: [{ data: 1 }] });
  });

  it('counts presence and disconnects a user (close code 4003)', async () => {
    const ws1 = await connect('frank', ['presence.t']);
    const ws2 = await connect('frank', ['presence.t']);
    await ws1.request({ op: 'sub', id: 1, topics: ['presence.t'] });
    expect(await herald.presence({ user: 'frank' })).toEqual({ user: 'frank', connections: 2 });
    expect(await herald.presence({ topic: 'presence.t' })).toEqual({ topic: 'presence.t', subscribers: 1 });
    expect(await herald.disconnect({ user: 'frank', reason: 'account suspended' })).toEqual({ disconnected: 2 });
    for (const ws of [ws1, ws2]) expect(await ws.closed).toEqual({ code: 4003, reason: 'account suspended' });
  });

  it('throws typed errors with the wire code, without retrying them', async () => {
    const wrongKey = new HeraldServer({ url: `http://127.0.0.1:${dev.port}`, apiKey: 'not-the-key' });
    await expect(wrongKey.publish({ topic: 'news', data: 1 })).rejects.toMatchObject({ name: 'HeraldApiError', code: 'unauthorized', status: 401, attempts: 1 });
    const bad = await herald.publish({ topic: 'no..topic', data: 1 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HeraldApiError);
    expect(bad).toMatchObject({ code: 'invalid_target', status: 400 });
    await expect(herald.publish({ topic: 'news', data: 1, id: 'has space' })).rejects.toMatchObject({ code: 'invalid_id', status: 400 });
    await expect(herald.publishBatch([{ topic: 'news', data: 1 }, { topic: 'x', data: 2 }, { user: '', data: 3 }])).rejects.toMatchObject({ code: 'invalid_target', index: 2 });
    await expect(herald.history({ ch: 'nope' })).rejects.toMatchObject({ code: 'invalid_query', status: 400 });
  });
});
