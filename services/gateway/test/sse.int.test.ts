// The Server-Sent Events fallback (docs/protocol.md#server-sent-events-fallback) over real HTTP: stream format, refusals, Last-Event-ID recovery, keepalive, control, drain, slow readers, NATS.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus, openBus, type Bus } from '@herald/bus';
import { encodeMsgFrame } from '@herald/protocol';
import { connectWs, startNatsServer, waitFor, type NatsServerHandle, type WsTestClient } from '@herald/testkit';
import { mint, nowSec, sleep, startTestGateway, withSlowHistory, type TestGateway } from './helpers.js';
import { connectSse, decodeEventId, refusedSse, type SseOptions, type SseTestClient } from './sse-client.js';

let gw: TestGateway | undefined;
const streams: SseTestClient[] = [];
const sockets: WsTestClient[] = [];
afterEach(async () => {
  if (gw) expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200); // the node survived whatever the test did
  for (const s of streams.splice(0)) s.close();
  for (const c of sockets.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

async function setup(env: Record<string, string> = {}, bus?: Bus): Promise<TestGateway> {
  gw = await startTestGateway(env, bus);
  return gw;
}

async function stream(g: TestGateway, opts: SseOptions = {}): Promise<SseTestClient> {
  const s = await connectSse(g.httpUrl, { token: mint(), ...opts });
  streams.push(s);
  return s;
}

/** Publishes `n` messages to `channel`; returns their seqs. */
async function publishN(g: TestGateway, channel: string, n: number, tag = 'm'): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(await g.publish(channel, { [tag]: i }));
  return seqs;
}

describe('SSE stream', () => {
  it('answers 200 with the stream headers, retry, then welcome (the WebSocket welcome plus transport) carrying a starting id', async () => {
    const g = await setup();
    const exp = nowSec() + 3600;
    const s = await stream(g, { token: mint({ exp }), topics: ['news'] });
    expect(s.res.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    expect(s.res.headers['access-control-allow-origin']).toBeUndefined();
    const welcome = await s.waitEvent((e) => e.event === 'welcome');
    expect(s.raw.startsWith('retry: 1000\n')).toBe(true);
    expect(s.retry).toBe(1000);
    expect(s.events[0]).toBe(welcome);
    expect(welcome.json).toEqual({
      op: 'welcome', conn: expect.any(String), node: 'gw-test', user: 'u1', heartbeat: 25_000, epoch: g.bus.epoch(), exp, transport: 'sse',
    });
    expect(decodeEventId(welcome.id)).toEqual({ epoch: g.bus.epoch(), seqs: {} });
    // The Authorization header works too (servers, tools).
    const h = await stream(g, { via: 'header', topics: [] });
    expect((await h.waitEvent((e) => e.event === 'welcome')).json).toMatchObject({ op: 'welcome', user: 'u1', transport: 'sse' });
    expect(await g.metric('herald_sse_connections')).toBe(2);
    expect(await g.metric('herald_connections')).toBe(2);
    expect(await g.metric('herald_sse_requests_total', { result: 'ok' })).toBe(2);
  });

  it('delivers topic and personal messages as `event: msg` with the WebSocket frame as data and an id holding every channel', async () => {
    const g = await setup();
    const s = await stream(g, { topics: ['news', 'orders.eu'] });
    await s.waitEvent((e) => e.event === 'welcome');
    const ws = await connectWs(g.url, { token: mint({ sub: 'w' }) });
    sockets.push(ws);
    await ws.request({ op: 'sub', id: 1, topics: ['news'] });
    const n1 = await g.publish('topic:news', { a: 1 });
    const u1 = await g.publish('user:u1', { dm: 'hi' });
    const o1 = await g.publish('topic:orders.eu', [1, 2]);
    const n2 = await g.publish('topic:news', 'two');
    await waitFor(() => s.of('msg').length >= 4, 3000, 'four events');
    const msgs = s.of('msg');
    const history = await g.bus.history('topic:news');
    const [m1, m2] = history.messages;
    expect(msgs[0]?.data).toBe(encodeMsgFrame('topic:news', n1, 0, '{"a":1}', m1?.ts ?? 0));
    expect(msgs[3]?.data).toBe(encodeMsgFrame('topic:news', n2, n1, '"two"', m2?.ts ?? 0));
    expect(msgs.map((e) => e.json)).toMatchObject([
      { op: 'msg', ch: 'topic:news', seq: n1, data: { a: 1 } },
      { op: 'msg', ch: 'user:u1', seq: u1, prev: 0, data: { dm: 'hi' } },
      { op: 'msg', ch: 'topic:orders.eu', seq: o1, data: [1, 2] },
      { op: 'msg', ch: 'topic:news', seq: n2, prev: n1, data: 'two' },
    ]);
    const epoch = g.bus.epoch();
    expect(msgs.map((e) => decodeEventId(e.id))).toEqual([
      { epoch, seqs: { 'topic:news': n1 } },
      { epoch, seqs: { 'user:u1': u1, 'topic:news': n1 } },
      { epoch, seqs: { 'user:u1': u1, 'topic:news': n1, 'topic:orders.eu': o1 } },
      { epoch, seqs: { 'user:u1': u1, 'topic:news': n2, 'topic:orders.eu': o1 } },
    ]);
    expect(/^[\x21-\x7e]+$/.test(msgs[3]?.id ?? '')).toBe(true); // ASCII, no spaces or line breaks
    // The WebSocket subscriber of the same channel got the same frames.
    expect((await ws.waitMessages('topic:news', 2)).map((m) => m.seq)).toEqual([n1, n2]);
    expect(await g.metric('herald_deliveries_total')).toBe(6);
  });

  it('splits a stored payload holding raw line breaks into several data lines (same JSON once joined)', async () => {
    const g = await setup();
    const s = await stream(g, { topics: ['news'] });
    await s.waitEvent((e) => e.event === 'welcome');
    await g.bus.publish({ channel: 'topic:news', data: '{\n"a":\r\n1}' });
    const [m] = await s.waitMessages('topic:news', 1);
    expect(m?.data).toEqual({ a: 1 });
    expect(s.raw).toContain('data: {"op":"msg","ch":"topic:news"');
  });

  it('CORS for an allowed Origin; 403 origin_not_allowed for another; no Origin passes', async () => {
    const g = await setup({ ALLOWED_ORIGINS: 'https://app.example.com' });
    const s = await stream(g, { origin: 'https://app.example.com' });
    expect(s.res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(s.res.headers['vary']).toBe('origin');
    const r = await refusedSse(g.httpUrl, { token: mint(), origin: 'https://evil.example.com' });
    expect(r.status).toBe(403);
    expect(r.json?.error.code).toBe('origin_not_allowed');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['vary']).toBe('origin');
    // A refusal for an allowed origin is readable by the page.
    const bad = await refusedSse(g.httpUrl, { origin: 'https://app.example.com' });
    expect(bad.status).toBe(401);
    expect(bad.headers['access-control-allow-origin']).toBe('https://app.example.com');
    await stream(g, {});
  });

  it('refuses before the stream starts: 401 token codes, 403 forbidden topic, 400 invalid topic or too many, with the error body', async () => {
    const g = await setup({ JWT_AUDIENCE: 'herald' });
    const token = mint({ aud: 'herald' });
    const cases: [number, string, SseOptions][] = [
      [401, 'token_missing', {}],
      [401, 'token_invalid', { token: 'not-a-jwt' }],
      [401, 'token_invalid', { token: mint({ aud: 'herald' }, { secret: 'another-secret-of-sufficient-length-000' }) }],
      [401, 'token_expired', { token: mint({ aud: 'herald', exp: nowSec() - 30 }) }],
      [401, 'alg_not_allowed', { token: mint({ aud: 'herald' }, { alg: 'none' }), via: 'header' }],
      [401, 'claims_invalid', { token: mint({ aud: 'someone-else' }) }],
      [403, 'forbidden', { token, topics: ['news', 'admin.secrets'] }],
      [400, 'invalid_channel', { token, topics: ['news', 'bad..name'] }],
      [400, 'invalid_channel', { token, query: { topics: 'news,' } }],
      [400, 'invalid_query', { token, topics: Array.from({ length: 101 }, (_, i) => `orders.t${i}`) }],
    ];
    for (const [status, code, opts] of cases) {
      const r = await refusedSse(g.httpUrl, opts);
      expect(r.status, code).toBe(status);
      expect(r.json?.error.code, code).toBe(code);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const forbidden = await refusedSse(g.httpUrl, { token, topics: ['admin.secrets'] });
    expect(forbidden.json?.error.message).toContain('admin.secrets');
    // 100 topics are fine; the token is never logged.
    const s = await stream(g, { token, topics: Array.from({ length: 100 }, (_, i) => `orders.t${i}`) });
    await s.waitEvent((e) => e.event === 'welcome');
    for (const line of g.logs) expect(line).not.toContain(token.split('.')[2]);
    expect(await g.metric('herald_sse_requests_total', { result: '401' })).toBe(6);
    expect(await g.metric('herald_sse_connections')).toBe(1);
  });

  it('429 at the per-user limit, counted together with WebSockets; a closed stream frees its slot', async () => {
    const g = await setup({ MAX_CONNECTIONS_PER_USER: '2' });
    const ws = await connectWs(g.url, { token: mint({ sub: 'greedy' }) });
    sockets.push(ws);
    const s = await stream(g, { token: mint({ sub: 'greedy' }) });
    const r = await refusedSse(g.httpUrl, { token: mint({ sub: 'greedy' }) });
    expect(r.status).toBe(429);
    expect(r.json?.error.code).toBe('too_many_connections');
    s.close();
    await waitFor(async () => (await g.metric('herald_sse_connections')) === 0, 2000, 'the stream to be released');
    expect(await g.metric('herald_closes_total', { code: '1001' })).toBe(1);
    await stream(g, { token: mint({ sub: 'greedy' }) });
  });

  it('drain: 503 draining with Retry-After for new streams, `reconnect` to open ones, `close` 1012 at the window end', async () => {
    const g = await setup({ DRAIN_WINDOW_MS: '300', DRAIN_TIMEOUT_MS: '2000' });
    const s = await stream(g, { topics: ['news'] });
    await s.waitEvent((e) => e.event === 'welcome');
    const drained = g.server.gateway.drain();
    const r = await refusedSse(g.httpUrl, { token: mint() });
    expect(r.status).toBe(503);
    expect(r.json?.error.code).toBe('draining');
    expect(r.headers['retry-after']).toBe('1');
    const reconnect = await s.waitEvent((e) => e.event === 'reconnect');
    expect(reconnect.json).toEqual({ op: 'reconnect', after: expect.any(Number) });
    expect(reconnect.json?.['after']).toBeLessThan(300);
    await drained;
    expect(await s.ended).toBe('end');
    expect(s.of('close').map((e) => e.json)).toEqual([{ op: 'close', code: 1012, reason: 'draining' }]);
    expect(await g.metric('herald_connections')).toBe(0);
  });
});

describe('recovery with Last-Event-ID', () => {
  /** History reads take 30 ms, so live messages arrive while a recovery reads history (as on NATS). */
  async function slowHistory(): Promise<TestGateway> {
    return setup({ HISTORY_SIZE: '5000' }, withSlowHistory(new MemoryBus({ history: { maxPerChannel: 5000 } }), 30));
  }

  it('replays what was missed on every channel, once and in order, after welcome (recovered: true); then live', async () => {
    const g = await slowHistory();
    const a = await stream(g, { topics: ['news', 'orders.eu'] });
    const seen = [await g.publish('topic:news', 'n0'), await g.publish('user:u1', 'u0')];
    await a.waitMessages('user:u1', 1);
    const lastId = a.lastEventId;
    a.close();
    const missedNews = await publishN(g, 'topic:news', 5, 'news');
    const missedUser = await publishN(g, 'user:u1', 3, 'user');
    const missedOrders = await publishN(g, 'topic:orders.eu', 2, 'orders');
    const b = await stream(g, { topics: ['news', 'orders.eu'], lastEventId: lastId });
    const welcome = await b.waitEvent((e) => e.event === 'welcome');
    expect(b.events[0]).toBe(welcome);
    expect(welcome.json).toMatchObject({ op: 'welcome', recovered: true, transport: 'sse' });
    await b.waitMessages('topic:orders.eu', 2);
    expect(b.msgs('topic:news').map((m) => m.seq)).toEqual(missedNews);
    expect(b.msgs('user:u1').map((m) => m.seq)).toEqual(missedUser);
    expect(b.msgs('topic:orders.eu').map((m) => m.seq)).toEqual(missedOrders); // absent from the id: held nothing, all of it
    expect(b.msgs().map((m) => m.seq)).not.toContain(seen[0]);
    const live = await g.publish('topic:news', 'live');
    await b.waitMessages('topic:news', missedNews.length + 1);
    expect(decodeEventId(b.lastEventId).seqs).toEqual({ 'user:u1': missedUser.at(-1), 'topic:news': live, 'topic:orders.eu': missedOrders.at(-1) });
    expect(await g.metric('herald_recoveries_total', { outcome: 'recovered' })).toBe(3);
  });

  it('has no gap and no duplicate while a publisher keeps publishing during the reconnect (?lastEventId= on the URL)', async () => {
    const g = await slowHistory();
    const a = await stream(g, { topics: ['news'] });
    await a.waitEvent((e) => e.event === 'welcome');
    const before = await g.publish('topic:news', 'before');
    await a.waitMessages('topic:news', 1);
    a.close();
    const seqs: number[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        seqs.push(await g.publish('topic:news', { n: i }));
        await sleep(1);
      }
    })();
    await sleep(20);
    const b = await stream(g, { topics: ['news'], query: { lastEventId: a.lastEventId } });
    await sleep(60);
    running = false;
    await loop;
    await b.waitMessages('topic:news', seqs.length);
    await sleep(20);
    expect(b.events[0]?.json).toMatchObject({ op: 'welcome', recovered: true });
    expect(b.msgs('topic:news').map((m) => m.seq)).toEqual(seqs);
    expect(seqs[0]).toBeGreaterThan(before);
  });

  it('a stream that received nothing reconnects from its welcome id without a gap', async () => {
    const g = await setup();
    await g.publish('topic:news', 'old'); // before the stream: never sent to it
    const a = await stream(g, { topics: ['news'] });
    const welcome = await a.waitEvent((e) => e.event === 'welcome');
    a.close();
    const missed = await publishN(g, 'topic:news', 2);
    const b = await stream(g, { topics: ['news'], lastEventId: welcome.id });
    expect((await b.waitEvent((e) => e.event === 'welcome')).json).toMatchObject({ recovered: true });
    expect((await b.waitMessages('topic:news', 2)).map((m) => m.seq)).toEqual(missed);
    await sleep(20);
    expect(b.msgs().length).toBe(2);
  });

  it('recovered: false and live only for another epoch or a malformed id; no `recovered` without an id', async () => {
    const g = await setup();
    const before = await g.publish('topic:news', 'before');
    const other = `another-epoch~${Buffer.from(JSON.stringify({ 'topic:news': 1 })).toString('base64url')}`;
    const malformed = [other, 'garbage', `${g.bus.epoch()}~%%%`, `${g.bus.epoch()}~${Buffer.from('[1]').toString('base64url')}`, 'x'.repeat(40_000)];
    for (const id of malformed) {
      const s = await stream(g, { topics: ['news'], lastEventId: id });
      const w = await s.waitEvent((e) => e.event === 'welcome');
      expect(w.json?.['recovered'], id.slice(0, 20)).toBe(false);
      expect(decodeEventId(w.id).seqs).toEqual({ 'topic:news': before }); // starts live: the client reloads from here
    }
    const live = await g.publish('topic:news', 'live');
    for (const s of streams) expect((await s.waitMessages('topic:news', 1)).map((m) => m.seq)).toEqual([live]);
    expect(await g.metric('herald_recoveries_total', { outcome: 'recovered' })).toBe(0);
  });
});

describe('keepalive, expiry, control and slow readers', () => {
  it('sends `: hb` comment lines after heartbeat ms of silence', async () => {
    const g = await setup({ HEARTBEAT_MS: '1000' });
    const s = await stream(g);
    await s.waitComment(': hb', 1, 3000);
    await s.waitComment(': hb', 2, 3000); // the 1 s sweep sends one per 1 to 2 s of silence
    expect(s.of('hb')).toEqual([]);
  });

  it('sends `refresh` before exp, then `close` 4001 and ends the stream at exp', async () => {
    const g = await setup({ REFRESH_BEFORE_S: '60' });
    const exp = nowSec() + 2;
    const s = await stream(g, { token: mint({ exp }) });
    expect((await s.waitEvent((e) => e.event === 'refresh', 3000)).json).toEqual({ op: 'refresh', exp });
    expect(await s.ended).toBe('end');
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(exp);
    expect(s.of('close').map((e) => e.json)).toEqual([{ op: 'close', code: 4001, reason: 'token expired' }]);
    expect(await g.metric('herald_closes_total', { code: '4001' })).toBe(1);
  });

  it('bus disconnect sends `close` with the code and reason, then ends; presence counts SSE streams', async () => {
    const g = await setup();
    const a = await stream(g, { token: mint({ sub: 'zed' }), topics: ['news'] });
    const b = await stream(g, { token: mint({ sub: 'zed' }) });
    const ws = await connectWs(g.url, { token: mint({ sub: 'zed' }) });
    sockets.push(ws);
    await ws.request({ op: 'sub', id: 1, topics: ['news'] });
    await a.waitEvent((e) => e.event === 'welcome');
    expect(await g.bus.presence({ user: 'zed' })).toBe(3);
    expect(await g.bus.presence({ topic: 'news' })).toBe(2);
    expect(await g.bus.disconnect('zed', 4003, 'removed by admin')).toBe(3);
    for (const s of [a, b]) {
      expect(await s.ended).toBe('end');
      expect(s.of('close').map((e) => e.json)).toEqual([{ op: 'close', code: 4003, reason: 'removed by admin' }]);
    }
    expect(await ws.closed).toEqual({ code: 4003, reason: 'removed by admin' });
    expect(await g.bus.presence({ user: 'zed' })).toBe(0);
    expect(await g.bus.presence({ topic: 'news' })).toBe(0);
    expect(await g.metric('herald_subscriptions')).toBe(0);
  });

  it('ends a stream that stops reading once its buffer passes the limit (4008), releases it, and stays healthy', async () => {
    const g = await setup({ WS_MAX_BACKPRESSURE_BYTES: String(256 * 1024), UNSUBSCRIBE_LINGER_MS: '0' });
    const slow = await stream(g, { topics: ['news'] });
    const fine = await stream(g, { token: mint({ sub: 'fine' }), topics: ['news'] });
    await slow.waitEvent((e) => e.event === 'welcome');
    slow.pause();
    const payload = 'y'.repeat(16_000);
    let sent = 0;
    await waitFor(async () => {
      // Batches well under the limit, with pauses in which the healthy stream reads (it shares this process).
      for (let i = 0; i < 10; i++, sent++) await g.publish('topic:news', payload);
      await sleep(5);
      return (await g.metric('herald_closes_total', { code: '4008' })) >= 1;
    }, 10_000, 'the slow stream to be ended', 10);
    expect(await g.metric('herald_slow_consumers_total')).toBe(1);
    expect(await g.metric('herald_sse_connections')).toBe(1);
    expect(await g.bus.presence({ topic: 'news' })).toBe(1);
    await fine.waitMessages('topic:news', sent, 10_000); // the other stream got everything
    const seqs = fine.msgs('topic:news').map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] ?? 0);
    slow.res.resume();
    expect(await slow.ended).toBe('aborted'); // cut without a close event: it could not read one
    expect(slow.of('close')).toEqual([]);
    fine.close();
    await waitFor(async () => (await g.metric('herald_bus_channels')) === 0, 2000, 'bus interest released');
  });
});

describe('SSE on NATS', () => {
  let nats: NatsServerHandle;
  let publisher: Bus;
  let natsGw: TestGateway;
  beforeAll(async () => {
    nats = await startNatsServer();
    const history = { maxPerChannel: 1000, maxAgeMs: 3_600_000 };
    const [gwBus, pubBus] = await Promise.all([
      openBus({ natsUrl: nats.url, history, name: 'gw-sse' }),
      openBus({ natsUrl: nats.url, history, name: 'publisher' }),
    ]);
    publisher = pubBus;
    natsGw = await startTestGateway({ NATS_URL: nats.url, CANARY_INTERVAL_MS: '200', UNSUBSCRIBE_LINGER_MS: '0' }, gwBus);
  });
  afterAll(async () => {
    for (const s of streams.splice(0)) s.close();
    await natsGw?.close();
    await publisher?.close();
    await nats?.stop();
  });

  it('delivers messages published by another connection and recovers across a reconnect with Last-Event-ID', async () => {
    const a = await stream(natsGw, { token: mint({ sub: 'nina' }), topics: ['news'] });
    await a.waitEvent((e) => e.event === 'welcome');
    const first = (await publisher.publish({ channel: 'topic:news', data: '1' })).seq;
    const dm = (await publisher.publish({ channel: 'user:nina', data: '"dm"' })).seq;
    expect((await a.waitMessages('topic:news', 1)).map((m) => m.seq)).toEqual([first]);
    await a.waitMessages('user:nina', 1);
    expect(decodeEventId(a.lastEventId).seqs).toEqual({ 'user:nina': dm, 'topic:news': first });
    a.close();
    const missed: number[] = [];
    for (let i = 0; i < 3; i++) missed.push((await publisher.publish({ channel: 'topic:news', data: String(i) })).seq);
    const b = await stream(natsGw, { token: mint({ sub: 'nina' }), topics: ['news'], lastEventId: a.lastEventId });
    expect((await b.waitEvent((e) => e.event === 'welcome')).json).toMatchObject({ recovered: true, epoch: natsGw.bus.epoch() });
    expect((await b.waitMessages('topic:news', 3)).map((m) => m.seq)).toEqual(missed);
    const live = (await publisher.publish({ channel: 'topic:news', data: '"live"' })).seq;
    expect((await b.waitMessages('topic:news', 4)).map((m) => m.seq)).toEqual([...missed, live]);
    expect(b.msgs('user:nina')).toEqual([]);
  });
});
