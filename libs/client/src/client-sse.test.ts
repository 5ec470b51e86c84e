// The SSE transport through a scripted fetch: fallback after WebSocket failures, the same API,
// topics changed by reopening from the last event id, recovery after a cut, close events.
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url } from './encoding.js';
import type { HeraldMessage } from './types.js';
import { FakeSse, NOW, TOKEN, fakeJwt, setup, tick, useScriptedClock } from './testing/harness.js';

useScriptedClock();

function positionsOf(eventId: string | undefined): unknown {
  return JSON.parse(decodeBase64Url((eventId ?? '~').split('~')[1] as string));
}

describe('SSE', () => {
  it('falls back to SSE after 3 WebSocket failures without a welcome; same API', async () => {
    const sse = new FakeSse();
    const t = setup({ transports: ['websocket', 'sse'], fetch: sse.fetch });
    t.server.behavior = 'refuse';
    const got: HeraldMessage[] = [];
    t.client.subscribe('a', (m) => got.push(m));
    t.client.connect();
    await tick();
    await tick(250);
    await tick(500);
    expect(t.server.sockets).toHaveLength(3);
    expect(sse.requests).toHaveLength(0);
    await tick(250); // backoff restarts for the new transport
    expect(sse.requests).toHaveLength(1);
    expect(sse.last.url).toBe('http://gw.test/v1/sse?topics=a');
    expect(sse.last.headers).toMatchObject({ authorization: 'Bearer ' + TOKEN, accept: 'text/event-stream' });
    sse.welcome();
    sse.msg('topic:a', 4, 0);
    sse.last.write(': hb\n\n');
    await tick();
    expect(t.states.at(-1)).toBe('connected');
    expect(t.client.transport).toBe('sse');
    expect(got.map((m) => m.seq)).toEqual([4]);
  });

  it('subscribing reopens the stream from the last position; a cut stream resumes with Last-Event-ID', async () => {
    const sse = new FakeSse();
    const t = setup({ transports: ['sse'], fetch: sse.fetch });
    const got: HeraldMessage[] = [];
    t.client.subscribe('a', (m) => got.push(m));
    t.client.connect();
    await tick();
    sse.welcome();
    sse.msg('topic:a', 4, 0);
    sse.msg('user:u1', 6, 0);
    await tick();
    const first = sse.last;
    const b = t.client.subscribe('b', () => undefined);
    await tick();
    expect(first.signal.aborted).toBe(true);
    expect(sse.last.url).toBe('http://gw.test/v1/sse?topics=a%2Cb');
    expect(positionsOf(sse.last.headers['last-event-id'])).toEqual({ 'topic:a': 4, 'user:u1': 6 });
    sse.welcome();
    await expect(b.ready).resolves.toEqual({ ok: true });
    expect(t.states).toEqual(['connecting', 'connected']); // the reopen is quiet
    sse.msg('topic:a', 4, 0); // replayed again: a duplicate
    sse.msg('topic:a', 9, 4);
    sse.last.end(); // the stream is cut
    await tick();
    expect(t.states.at(-1)).toBe('reconnecting');
    await tick(250);
    expect(positionsOf(sse.last.headers['last-event-id'])).toEqual({ 'topic:a': 9, 'user:u1': 6 });
    sse.welcome();
    await tick();
    expect(t.states.at(-1)).toBe('connected');
    expect(got.map((m) => m.seq)).toEqual([4, 9]);
  });

  it('resumes channels that delivered nothing yet from the server\'s event id; held positions win', async () => {
    const sse = new FakeSse();
    const t = setup({ transports: ['sse'], fetch: sse.fetch });
    t.client.subscribe('a', () => undefined);
    t.client.subscribe('b', () => undefined);
    t.client.connect();
    await tick();
    const id = `e1~${encodeBase64Url(JSON.stringify({ 'user:u1': 2, 'topic:a': 3, 'topic:b': 7 }))}`;
    sse.last.write(`id: ${id}\n` + FakeSse.event('welcome', { op: 'welcome', conn: 's1', node: 'n1', user: 'u1', heartbeat: 25_000, epoch: 'e1' }));
    sse.msg('topic:a', 5, 3);
    sse.last.end();
    await tick(250);
    expect(positionsOf(sse.last.headers['last-event-id'])).toEqual({ 'user:u1': 2, 'topic:a': 5, 'topic:b': 7 });
  });

  it('a gap over SSE resumes the stream from the last position held', async () => {
    const sse = new FakeSse();
    const t = setup({ transports: ['sse'], fetch: sse.fetch });
    t.client.subscribe('a', () => undefined);
    t.client.connect();
    await tick();
    sse.welcome();
    sse.msg('topic:a', 4, 0);
    sse.msg('topic:a', 9, 7);
    await tick();
    expect(sse.requests).toHaveLength(2);
    expect(positionsOf(sse.last.headers['last-event-id'])).toEqual({ 'topic:a': 4 });
  });

  it('`event: close` with 4003 disconnects; a 403 refusal asks the app; query mode puts token and id in the URL', async () => {
    const sse = new FakeSse();
    const t = setup({ transports: ['sse'], fetch: sse.fetch, sseTokenIn: 'query' });
    t.client.connect();
    await tick();
    expect(sse.last.url).toBe(`http://gw.test/v1/sse?token=${TOKEN}`);
    sse.welcome();
    sse.last.write(FakeSse.event('close', { op: 'close', code: 4003, reason: 'bye' }));
    await tick();
    expect(t.states.at(-1)).toBe('disconnected');
    expect(t.errors.at(-1)).toMatchObject({ closeCode: 4003, reaction: 'ask-app', transport: 'sse' });
    sse.status = 403;
    t.client.connect();
    await tick();
    expect(t.states.at(-1)).toBe('disconnected');
    expect(t.errors.at(-1)).toMatchObject({ code: 'forbidden', status: 403, reaction: 'ask-app' });
  });

  it('refresh over SSE: a new token, the stream reopened with it; topics the token does not allow fail locally', async () => {
    const sse = new FakeSse();
    const fresh = fakeJwt({ topics: ['a'], n: 2 });
    const t = setup({ transports: ['sse'], fetch: sse.fetch, token: fakeJwt({ topics: ['a'] }), getToken: async () => fresh });
    t.client.subscribe('a', () => undefined);
    const admin = t.client.subscribe('admin', () => undefined);
    t.client.connect();
    await tick();
    await expect(admin.ready).resolves.toEqual({ ok: false, code: 'forbidden' });
    expect(sse.last.url).toBe('http://gw.test/v1/sse?topics=a');
    sse.welcome();
    sse.last.write(FakeSse.event('refresh', { op: 'refresh', exp: NOW / 1000 + 30 }));
    await tick();
    expect(sse.requests).toHaveLength(2);
    expect(sse.last.headers['authorization']).toBe('Bearer ' + fresh);
  });
});
