// Unit tests of the command handlers on real hub parts (MemoryBus, Interest, Recovery) and a recording socket.
import { describe, expect, it } from 'vitest';
import { MemoryBus, type MessageHandler } from '@herald/bus';
import { makeHub, silentLog, verifier } from '../../test/unit-helpers.js';
import { mint, nowSec } from '../../test/helpers.js';
import { handleAuth, handleCommand, handleSub, handleUnsub, type CommandDeps } from './commands.js';

/** A MemoryBus whose topic subscriptions wait until `open()`. */
class GatedBus extends MemoryBus {
  open: () => void = () => undefined;
  readonly #gate = new Promise<void>((resolve) => (this.open = resolve));
  override subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return channel.startsWith('topic:') ? this.#gate.then(() => super.subscribe(channel, handler)) : super.subscribe(channel, handler);
  }
}

/** A MemoryBus that refuses topic subscriptions (a bus outage). */
class FailingBus extends MemoryBus {
  override subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return channel.startsWith('topic:') ? Promise.reject(new Error('bus down')) : super.subscribe(channel, handler);
  }
}

function deps(hub: ReturnType<typeof makeHub>, maxSubscriptions = 3): CommandDeps {
  return { subscriptions: hub.subscriptions, verifier, maxSubscriptions, position: (ch) => hub.bus.position(ch), log: silentLog };
}

describe('sub', () => {
  it('tells the live position in each ok result, so a client holding nothing can recover from it later', async () => {
    const hub = makeHub();
    const { st } = await hub.connect({ topics: ['a'] });
    await hub.bus.publish({ channel: 'topic:a', data: '1' });
    const { seq } = await hub.bus.publish({ channel: 'topic:a', data: '2' });
    const reply = await handleSub({ op: 'sub', id: 1, topics: ['a'] }, st, deps(hub));
    expect(reply).toEqual({ op: 'ack', id: 1, results: { 'topic:a': { ok: true, recovered: false, seq } } });
  });

  it('answers invalid, forbidden, limit and ok per channel, once per name, and subscribes natively', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect({ topics: ['a', 'b', 'c', 'd', 'orders.*'] });
    const reply = await handleSub({ op: 'sub', id: 1, topics: ['a', 'a', 'x', 'no..', 'b', 'orders.eu', 'c'] }, st, deps(hub));
    expect(reply).toEqual({
      op: 'ack',
      id: 1,
      results: {
        'topic:a': { ok: true, recovered: false, seq: 0 },
        'topic:x': { ok: false, code: 'forbidden' },
        'topic:no..': { ok: false, code: 'invalid' },
        'topic:b': { ok: true, recovered: false, seq: 0 },
        'topic:orders.eu': { ok: true, recovered: false, seq: 0 },
        'topic:c': { ok: false, code: 'limit' },
      },
    });
    expect([...ws.topics].sort()).toEqual(['topic:a', 'topic:b', 'topic:orders.eu', 'user:u1']);
    expect([...st.channels].sort()).toEqual(['topic:a', 'topic:b', 'topic:orders.eu']);
    // Held topics do not count twice against the limit.
    expect(await handleSub({ op: 'sub', id: 2, topics: ['a', 'b'] }, st, deps(hub))).toMatchObject({ op: 'ack' });
    expect(hub.interest.count('topic:a')).toBe(1);
  });

  it('acks only once the bus subscription is confirmed', async () => {
    const bus = new GatedBus();
    const hub = makeHub({ bus });
    const { st, ws } = await hub.connect();
    let reply: unknown;
    const pending = handleSub({ op: 'sub', id: 1, topics: ['news'] }, st, deps(hub)).then((r) => (reply = r));
    await new Promise((r) => setTimeout(r, 20));
    expect(reply).toBeUndefined();
    expect(ws.topics.has('topic:news')).toBe(false);
    bus.open();
    await pending;
    expect(reply).toMatchObject({ op: 'ack', results: { 'topic:news': { ok: true } } });
    expect(ws.topics.has('topic:news')).toBe(true);
  });

  it('returns err internal and holds nothing when the bus refuses the subscription', async () => {
    const hub = makeHub({ bus: new FailingBus() });
    const { st, ws } = await hub.connect();
    expect(await handleSub({ op: 'sub', id: 9, topics: ['news'] }, st, deps(hub))).toMatchObject({ op: 'err', id: 9, code: 'internal' });
    expect(st.channels.length).toBe(0);
    expect(ws.topics.has('topic:news')).toBe(false);
    expect(hub.interest.size).toBe(1); // only the personal channel
  });

  it('recovers the personal channel in place; refuses another user channel', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect({ sub: 'me' });
    const s1 = (await hub.bus.publish({ channel: 'user:me', data: '1' })).seq;
    const s2 = (await hub.bus.publish({ channel: 'user:me', data: '2' })).seq;
    ws.sent.length = 0;
    const reply = await handleSub({ op: 'sub', id: 1, topics: [], since: { 'user:me': s1, 'user:you': 0 } }, st, deps(hub));
    expect(reply).toMatchObject({ op: 'ack', id: 1, results: { 'user:me': { ok: true, recovered: true }, 'user:you': { ok: false, code: 'forbidden' } } });
    expect(ws.frames().map((f) => f['seq'])).toEqual([s2]);
    expect(ws.topics.has('user:me')).toBe(true);
  });
});

describe('unsub, auth, ping', () => {
  it('unsub leaves held topics and ignores others', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    await handleSub({ op: 'sub', id: 1, topics: ['news'] }, st, deps(hub));
    expect(handleUnsub({ op: 'unsub', id: 2, topics: ['news', 'never', 'bad..'] }, st, deps(hub))).toEqual({ op: 'ack', id: 2 });
    expect(ws.topics.has('topic:news')).toBe(false);
    expect(hub.interest.count('topic:news')).toBe(0);
  });

  it('auth updates exp and the matcher, resets refresh, and drops topics no longer allowed', async () => {
    const hub = makeHub();
    const { st } = await hub.connect({ topics: ['news', 'orders.*'] });
    await handleSub({ op: 'sub', id: 1, topics: ['news', 'orders.eu'] }, st, deps(hub));
    st.refreshSent = true;
    const exp = nowSec() + 999;
    expect(await handleAuth({ op: 'auth', id: 2, token: mint({ topics: ['orders.*'], exp }) }, st, deps(hub))).toEqual({
      op: 'ack', id: 2, exp, results: { 'topic:news': { ok: false, code: 'forbidden' } },
    });
    expect(st.exp).toBe(exp);
    expect(st.refreshSent).toBe(false);
    expect([...st.channels]).toEqual(['topic:orders.eu']);
    expect(st.topics.allows('news')).toBe(false);
  });

  it('auth refuses another sub and bad tokens without changing anything', async () => {
    const hub = makeHub();
    const { st } = await hub.connect({ sub: 'me' });
    const exp = st.exp;
    expect(await handleAuth({ op: 'auth', id: 1, token: mint({ sub: 'them' }) }, st, deps(hub))).toMatchObject({ op: 'err', code: 'token_mismatch' });
    expect(await handleAuth({ op: 'auth', id: 2, token: 'garbage' }, st, deps(hub))).toMatchObject({ op: 'err', code: 'token_invalid' });
    expect(st.exp).toBe(exp);
  });

  it('ping answers pong through the dispatcher', async () => {
    const hub = makeHub();
    const { st } = await hub.connect();
    expect(handleCommand({ op: 'ping', id: 'x' }, st, deps(hub))).toEqual({ op: 'pong', id: 'x' });
  });
});
