// The state machine against a scripted WebSocket server: connect, subscribe, deliver,
// backoff, close-code reactions, token refresh, dead connections, drain, ack timeouts.
import { describe, expect, it, vi } from 'vitest';
import type { HeraldMessage } from './types.js';
import { NOW, TOKEN, fakeJwt, setup, tick, useScriptedClock } from './testing/harness.js';

useScriptedClock();

describe('HeraldClient over WebSocket', () => {
  it('connects with the token in the subprotocol and is connected on welcome', async () => {
    const t = setup();
    t.client.connect();
    expect(t.states).toEqual(['connecting']);
    await tick();
    expect(t.server.last.url).toBe('ws://gw.test/v1/ws');
    expect(t.server.last.protocols).toEqual(['herald.v1', 'herald.bearer.' + TOKEN]);
    expect(t.states).toEqual(['connecting', 'connected']);
    expect(t.client.transport).toBe('websocket');
    expect(t.connected[0]).toMatchObject({ transport: 'websocket', node: 'n1', user: 'u1', epoch: 'e1' });
  });

  it('sends subscriptions as state: one sub for those made before connecting, nothing for one undone meanwhile', async () => {
    const t = setup();
    const got: HeraldMessage[] = [];
    const a = t.client.subscribe('a', (m) => got.push(m));
    t.client.subscribe('b', () => undefined);
    t.client.subscribe('gone', () => undefined).unsubscribe();
    expect(() => t.client.subscribe('bad..name', () => undefined)).toThrow(TypeError);
    t.client.connect();
    await tick();
    const sock = t.server.last;
    expect(sock.ofOp('sub')).toEqual([{ op: 'sub', id: expect.any(Number), topics: ['a', 'b'] }]);
    sock.ackSub();
    await expect(a.ready).resolves.toEqual({ ok: true });
    sock.msg('topic:a', 4, 0, { hello: 1 });
    sock.msg('user:u1', 5, 0);
    expect(got).toEqual([{ ch: 'topic:a', seq: 4, ts: NOW + 4, data: { hello: 1 } }]);
    expect(t.user.map((m) => m.seq)).toEqual([5]);
    a.unsubscribe();
    a.unsubscribe();
    await tick();
    expect(sock.ofOp('unsub')).toEqual([{ op: 'unsub', id: expect.any(Number), topics: ['a'] }]);
    sock.msg('topic:a', 6, 4);
    expect(got).toHaveLength(1);
  });

  it('reports a refused subscription with its code', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    const sub = t.client.subscribe('admin', () => undefined);
    await tick();
    t.server.last.ack('sub', { results: { 'topic:admin': { ok: false, code: 'forbidden' } } });
    await expect(sub.ready).resolves.toEqual({ ok: false, code: 'forbidden' });
    expect(t.errors.at(-1)).toMatchObject({ code: 'forbidden', topic: 'admin' });
  });

  it('backs off exponentially with full jitter, the cap applied before the jitter', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9999);
    const t = setup();
    t.server.behavior = 'refuse';
    t.client.connect();
    await tick();
    const expected = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
    for (const [n, ceiling] of expected.entries()) {
      const before = t.server.sockets.length;
      await tick(Math.floor(ceiling * 0.9999) - 1);
      expect(t.server.sockets.length, `attempt ${n}`).toBe(before);
      await tick(1);
      expect(t.server.sockets.length, `attempt ${n}`).toBe(before + 1);
    }
    expect(t.states).toEqual(['connecting']); // never connected: still connecting, not reconnecting
    expect(t.errors[0]).toMatchObject({ code: 'connection_lost', closeCode: 1006, reaction: 'reconnect' });
  });

  it('4003: disconnected and an error for the app; no reconnect until connect()', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    t.server.last.serverClose(4003, 'disconnected by the API');
    expect(t.states.at(-1)).toBe('disconnected');
    expect(t.errors.at(-1)).toMatchObject({ code: 'forbidden', closeCode: 4003, reaction: 'ask-app', message: 'disconnected by the API' });
    await tick(120_000);
    expect(t.server.sockets).toHaveLength(1);
    t.client.connect();
    await tick();
    expect(t.server.sockets).toHaveLength(2);
    expect(t.states.at(-1)).toBe('connected');
  });

  it.each([
    [1000, 'stop'], [1003, 'stop'], [1008, 'stop'], [4009, 'stop'],
  ])('close %i: %s (disconnected, no reconnect)', async (code, reaction) => {
    const t = setup();
    t.client.connect();
    await tick();
    t.server.last.serverClose(code);
    expect(t.states.at(-1)).toBe('disconnected');
    expect(t.errors.at(-1)).toMatchObject({ closeCode: code, reaction });
    await tick(60_000);
    expect(t.server.sockets).toHaveLength(1);
  });

  it.each([
    [1006, 250], [1011, 250], [1012, 250], [1013, 250], [4008, 250], [4029, 4000], [4999, 250],
  ])('close %i: reconnects after %i ms (random 0.5)', async (code, delay) => {
    const t = setup();
    t.client.connect();
    await tick();
    t.server.last.serverClose(code);
    expect(t.states.at(-1)).toBe('reconnecting');
    await tick(delay - 1);
    expect(t.server.sockets).toHaveLength(1);
    await tick(1);
    expect(t.server.sockets).toHaveLength(2);
    expect(t.states.at(-1)).toBe('connected');
  });

  it('4001: gets a new token and reconnects with it; without getToken it stops', async () => {
    const fresh = fakeJwt({ n: 2 });
    const getToken = vi.fn(async () => fresh);
    const t = setup({ getToken });
    t.client.connect();
    await tick();
    t.server.last.serverClose(4001, 'token expired');
    await tick(250);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(t.server.last.protocols).toContain('herald.bearer.' + fresh);
    const u = setup();
    u.client.connect();
    await tick();
    u.server.last.serverClose(4001);
    expect(u.states.at(-1)).toBe('disconnected');
    expect(u.errors.at(-1)).toMatchObject({ code: 'token_expired', reaction: 'new-token' });
  });

  it('refresh: getToken, then auth on the same connection; topics the new token refuses are reported', async () => {
    const fresh = fakeJwt({ n: 2 });
    const t = setup({ getToken: async () => fresh });
    t.client.subscribe('a', () => undefined);
    t.client.connect();
    await tick();
    t.server.last.ackSub();
    t.server.last.push({ op: 'refresh', exp: NOW / 1000 + 30 });
    await tick();
    expect(t.server.last.ofOp('auth')).toEqual([{ op: 'auth', id: expect.any(Number), token: fresh }]);
    t.server.last.ack('auth', { exp: NOW / 1000 + 3600, results: { 'topic:a': { ok: false, code: 'forbidden' } } });
    expect(t.errors.at(-1)).toMatchObject({ code: 'forbidden', topic: 'a' });
    expect(t.server.sockets).toHaveLength(1);
  });

  it('an expired token is replaced before reconnecting', async () => {
    const fresh = fakeJwt({ n: 2 });
    const getToken = vi.fn(async () => fresh);
    const t = setup({ token: fakeJwt({ exp: NOW / 1000 + 60 }), getToken });
    t.client.connect();
    await tick();
    expect(getToken).not.toHaveBeenCalled();
    vi.setSystemTime(NOW + 120_000);
    t.server.last.serverClose(1006);
    await tick(250);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(t.server.last.protocols).toContain('herald.bearer.' + fresh);
  });

  it('declares a silent connection dead after 2 × heartbeat + 5 s', async () => {
    const t = setup();
    t.server.welcomeExtra = { heartbeat: 1000 };
    t.client.connect();
    await tick();
    await tick(5000);
    t.server.last.push({ op: 'hb' });
    await tick(6999);
    expect(t.states.at(-1)).toBe('connected');
    await tick(1);
    expect(t.states.at(-1)).toBe('reconnecting');
    expect(t.errors.at(-1)).toMatchObject({ message: 'heartbeat timeout', reaction: 'reconnect' });
    await tick(250);
    expect(t.server.sockets).toHaveLength(2);
  });

  it('honours `reconnect` frames: moves after `after` ms, without backoff', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    t.server.last.push({ op: 'reconnect', after: 2000 });
    await tick(1999);
    expect(t.server.sockets).toHaveLength(1);
    await tick(1);
    expect(t.server.sockets[0]?.closedBy).toBeDefined();
    await tick(1); // the retry is a zero-delay timer
    expect(t.server.sockets).toHaveLength(2);
    expect(t.errors.at(-1)).toMatchObject({ code: 'draining', reaction: 'reconnect' });
  });

  it('a server close after `reconnect` waits out the `after` delay, not the backoff', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    t.server.last.push({ op: 'reconnect', after: 3000 });
    await tick(1000);
    t.server.last.serverClose(1012);
    await tick(1999);
    expect(t.server.sockets).toHaveLength(1);
    await tick(1);
    expect(t.server.sockets).toHaveLength(2);
  });

  it('an unanswered command times out and the connection is replaced', async () => {
    const t = setup({ ackTimeoutMs: 1000 });
    t.client.connect();
    await tick();
    t.client.subscribe('a', () => undefined);
    await tick(999);
    expect(t.states.at(-1)).toBe('connected');
    await tick(1);
    expect(t.states.at(-1)).toBe('reconnecting');
    await tick(250);
    expect(t.server.last.ofOp('sub')).toEqual([{ op: 'sub', id: expect.any(Number), topics: ['a'] }]);
  });

  it('close() is final: closed, no timers, no reconnect', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    t.client.close();
    expect(t.states.at(-1)).toBe('closed');
    expect(t.server.last.closedBy).toBeDefined();
    await tick(60_000);
    expect(t.server.sockets).toHaveLength(1);
    expect(() => t.client.connect()).toThrow(TypeError);
  });
});
