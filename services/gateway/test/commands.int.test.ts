// Commands and delivery over a real socket: sub/unsub/auth/ping, sub results, personal channel, msg frames.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectWs, type WsTestClient } from '@herald/testkit';
import type { MsgFrame } from '@herald/protocol';
import { mint, nowSec, sleep, startTestGateway, type TestGateway } from './helpers.js';

let gw: TestGateway;
const clients: WsTestClient[] = [];
beforeEach(async () => {
  gw = await startTestGateway({ MAX_SUBSCRIPTIONS_PER_CONN: '3', UNSUBSCRIBE_LINGER_MS: '0' });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await gw.close();
});

async function client(claims: Record<string, unknown> = {}): Promise<WsTestClient> {
  const c = await connectWs(gw.url, { token: mint(claims) });
  clients.push(c);
  return c;
}

describe('sub', () => {
  it('answers per channel: ok, forbidden, invalid, limit; idempotent for held topics', async () => {
    const c = await client({ topics: ['news', 'orders.*', 'a', 'b'] });
    const ack = await c.request({ op: 'sub', id: 's1', topics: ['news', 'orders.eu', 'secret', 'bad..name', 'news', 'a', 'b'] });
    expect(ack).toMatchObject({
      op: 'ack',
      id: 's1',
      results: {
        'topic:news': { ok: true, recovered: false },
        'topic:orders.eu': { ok: true, recovered: false },
        'topic:secret': { ok: false, code: 'forbidden' },
        'topic:bad..name': { ok: false, code: 'invalid' },
        'topic:a': { ok: true, recovered: false },
        'topic:b': { ok: false, code: 'limit' },
      },
    });
    const again = await c.request({ op: 'sub', id: 's2', topics: ['news'] });
    expect(again).toMatchObject({ results: { 'topic:news': { ok: true, recovered: false } } });
    expect(await gw.metric('herald_subscriptions')).toBe(4); // 3 topics + the personal channel
  });

  it('is live when acked: every message published after the ack arrives, in order, with seq/prev/ts', async () => {
    const c = await client();
    await c.request({ op: 'sub', id: 1, topics: ['news'] });
    const before = Date.now();
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(await gw.publish('topic:news', { i }));
    const msgs = await c.waitMessages('topic:news', 20);
    expect(msgs.map((m) => m.seq)).toEqual(seqs);
    expect(msgs.map((m) => m.data)).toEqual(seqs.map((_, i) => ({ i })));
    expect(msgs[0]?.prev).toBe(0);
    for (let i = 1; i < msgs.length; i++) expect(msgs[i]?.prev).toBe(seqs[i - 1]);
    for (const m of msgs) expect(m.ts).toBeGreaterThanOrEqual(before - 5);
  });

  it('carries the publisher id in msg frames', async () => {
    const c = await client();
    await c.request({ op: 'sub', id: 1, topics: ['news'] });
    await gw.bus.publish({ channel: 'topic:news', data: '"x"', id: 'idem-1' });
    const [m] = await c.waitMessages('topic:news', 1);
    expect(m).toMatchObject({ ch: 'topic:news', data: 'x', id: 'idem-1' });
  });

  it('fans one message out to every subscriber, and counts deliveries', async () => {
    const subs = await Promise.all(Array.from({ length: 5 }, (_, i) => client({ sub: `fan${i}` })));
    await Promise.all(subs.map((c) => c.request({ op: 'sub', id: 1, topics: ['news'] })));
    await gw.publish('topic:news', { hello: 1 });
    for (const c of subs) expect((await c.waitMessages('topic:news', 1))[0]?.data).toEqual({ hello: 1 });
    expect(await gw.metric('herald_deliveries_total')).toBe(5);
    expect(await gw.metric('herald_messages_in_total')).toBe(1);
  });
});

describe('personal channel', () => {
  it('delivers user:<sub> to every connection of that user, without a sub', async () => {
    const a = await client({ sub: 'alice' });
    const b = await client({ sub: 'alice' });
    const other = await client({ sub: 'bob' });
    await gw.publish('user:alice', { dm: 1 });
    for (const c of [a, b]) expect((await c.waitMessages('user:alice', 1))[0]).toMatchObject({ ch: 'user:alice', data: { dm: 1 } });
    await other.request({ op: 'ping', id: 1 });
    expect(other.ofOp('msg')).toHaveLength(0);
  });

  it('forbids recovering another user channel through since', async () => {
    const c = await client({ sub: 'alice' });
    const ack = await c.request({ op: 'sub', id: 1, topics: [], since: { 'user:bob': 0 } });
    expect(ack).toMatchObject({ op: 'ack', results: { 'user:bob': { ok: false, code: 'forbidden' } } });
  });
});

describe('unsub, ping, auth', () => {
  it('unsub stops delivery and releases the bus subscription', async () => {
    const c = await client();
    await c.request({ op: 'sub', id: 1, topics: ['news'] });
    const channelsBefore = await gw.metric('herald_bus_channels');
    expect(await c.request({ op: 'unsub', id: 2, topics: ['news'] })).toEqual({ op: 'ack', id: 2 });
    await gw.publish('topic:news', { late: true });
    await c.request({ op: 'ping', id: 3 });
    expect(c.ofOp('msg')).toHaveLength(0);
    expect(await gw.metric('herald_bus_channels')).toBe(channelsBefore - 1);
  });

  it('ping answers pong with the id', async () => {
    const c = await client();
    expect(await c.request({ op: 'ping', id: 'abc' })).toEqual({ op: 'pong', id: 'abc' });
  });

  it('auth with a fresh token moves exp and drops topics the new token no longer allows', async () => {
    const c = await client({ topics: ['news', 'orders.*'], exp: nowSec() + 120 });
    await c.request({ op: 'sub', id: 1, topics: ['news', 'orders.eu'] });
    const exp = nowSec() + 7200;
    const ack = await c.request({ op: 'auth', id: 2, token: mint({ topics: ['news'], exp }) });
    expect(ack).toEqual({ op: 'ack', id: 2, exp, results: { 'topic:orders.eu': { ok: false, code: 'forbidden' } } });
    await gw.publish('topic:orders.eu', 1);
    await gw.publish('topic:news', 2);
    const msgs = await c.waitMessages('topic:news', 1);
    expect(msgs).toHaveLength(1);
    expect(c.ofOp('msg').filter((m: MsgFrame) => m.ch === 'topic:orders.eu')).toHaveLength(0);
  });

  it('auth refuses a token for another sub or a bad token, and the connection stays', async () => {
    const c = await client({ sub: 'alice' });
    expect(await c.request({ op: 'auth', id: 1, token: mint({ sub: 'mallory' }) })).toMatchObject({ op: 'err', id: 1, code: 'token_mismatch' });
    expect(await c.request({ op: 'auth', id: 2, token: mint({ sub: 'alice', exp: nowSec() - 5 }) })).toMatchObject({ op: 'err', id: 2, code: 'token_invalid' });
    expect(await c.request({ op: 'ping', id: 3 })).toEqual({ op: 'pong', id: 3 });
  });

  it('answers err with the id for well-formed frames it cannot use, and keeps the connection', async () => {
    const c = await client();
    expect(await c.request({ op: 'dance', id: 7 })).toMatchObject({ op: 'err', id: 7, code: 'unknown_op' });
    expect(await c.request({ op: 'sub', id: 8, topics: 'news' })).toMatchObject({ op: 'err', id: 8, code: 'invalid' });
    c.send({ op: 'ping' });
    await c.waitFrame((f) => f.op === 'err' && !('id' in f));
    await sleep(10);
    expect(c.closeInfo).toBeUndefined();
  });
});
