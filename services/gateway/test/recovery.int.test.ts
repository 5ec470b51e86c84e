// Recovery with `since`: on the upgrade URL (personal channel) and in `sub` frames; with concurrent publishers.
import { afterEach, describe, expect, it } from 'vitest';
import { connectWs, type WsTestClient } from '@herald/testkit';
import { MemoryBus } from '@herald/bus';
import { mint, sleep, startTestGateway, withLaggingLive, withSlowHistory, type TestGateway } from './helpers.js';

let gw: TestGateway | undefined;
const clients: WsTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

/** History reads take 30 ms, so live messages arrive while a recovery reads history (as on NATS). */
async function start(env: Record<string, string> = {}): Promise<TestGateway> {
  const size = Number(env['HISTORY_SIZE'] ?? 5000);
  gw = await startTestGateway({ HISTORY_SIZE: String(size), ...env }, withSlowHistory(new MemoryBus({ history: { maxPerChannel: size } }), 30));
  return gw;
}

async function open(g: TestGateway, sub: string, query?: Record<string, string>): Promise<WsTestClient> {
  const c = await connectWs(g.url, { token: mint({ sub }), ...(query ? { query } : {}) });
  clients.push(c);
  return c;
}

/** Publishes to `channel` about every millisecond until stopped; returns the seqs it stored. */
function publisher(g: TestGateway, channel: string): { seqs: number[]; stop(): Promise<void> } {
  const seqs: number[] = [];
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      const seq = await g.publish(channel, { n: i++ }).catch(() => undefined);
      if (seq === undefined) return;
      seqs.push(seq);
      await sleep(1);
    }
  })();
  return { seqs, stop: async () => ((running = false), await loop) };
}

function seqsOf(c: WsTestClient, ch: string): number[] {
  return c.ofOp('msg').filter((m) => m.ch === ch).map((m) => m.seq);
}

describe('personal channel recovery through the upgrade URL', () => {
  it('replays exactly the missed messages, once, in order, right after welcome; then live', async () => {
    const g = await start();
    const a = await open(g, 'alice');
    const seen = [await g.publish('user:alice', 1), await g.publish('user:alice', 2)];
    await a.waitMessages('user:alice', 2);
    await a.close();
    const missed: number[] = [];
    for (let i = 0; i < 7; i++) missed.push(await g.publish('user:alice', { missed: i }));
    const b = await open(g, 'alice', { since: String(seen[1]), epoch: g.bus.epoch() });
    expect(b.frames[0]).toMatchObject({ op: 'welcome', recovered: true });
    await b.waitMessages('user:alice', missed.length);
    expect(b.frames.slice(1, 1 + missed.length).map((f) => (f.op === 'msg' ? f.seq : -1))).toEqual(missed);
    const live = await g.publish('user:alice', 'live');
    await b.waitMessages('user:alice', missed.length + 1);
    expect(seqsOf(b, 'user:alice')).toEqual([...missed, live]);
    expect(await g.metric('herald_recoveries_total', { outcome: 'recovered' })).toBe(1);
  });

  it('has no gap and no duplicate while a publisher keeps publishing during the reconnect', async () => {
    const g = await start();
    const since = await g.publish('user:carol', 'before');
    const pub = publisher(g, 'user:carol');
    await sleep(20);
    const c = await open(g, 'carol', { since: String(since), epoch: g.bus.epoch() });
    await sleep(30);
    await pub.stop();
    await c.waitMessages('user:carol', pub.seqs.length);
    await sleep(20);
    expect(c.frames[0]).toMatchObject({ op: 'welcome', recovered: true });
    expect(seqsOf(c, 'user:carol')).toEqual(pub.seqs);
  });

  it('answers recovered:false and replays nothing for another epoch, an evicted range or an unusable since', async () => {
    const g = await start({ HISTORY_SIZE: '5' });
    const first = await g.publish('user:dave', 0);
    for (let i = 0; i < 10; i++) await g.publish('user:dave', i);
    const wrongEpoch = await open(g, 'dave', { since: String(first), epoch: 'some-other-epoch' });
    const evicted = await open(g, 'dave', { since: String(first), epoch: g.bus.epoch() });
    const garbage = await open(g, 'dave', { since: 'yesterday' });
    for (const c of [wrongEpoch, evicted, garbage]) expect(c.frames[0]).toMatchObject({ op: 'welcome', recovered: false });
    const live = await g.publish('user:dave', 'live');
    for (const c of [wrongEpoch, evicted, garbage]) {
      await c.waitMessages('user:dave', 1);
      expect(seqsOf(c, 'user:dave')).toEqual([live]);
    }
    expect(await g.metric('herald_recoveries_total', { outcome: 'not_recovered' })).toBe(2);
  });
});

describe('recovery in sub frames', () => {
  it('replays a topic from since, then live, with a concurrent publisher: no gap, no duplicate', async () => {
    const g = await start();
    const since = await g.publish('topic:news', 'old');
    const pre: number[] = [];
    for (let i = 0; i < 50; i++) pre.push(await g.publish('topic:news', { pre: i }));
    const c = await open(g, 'erin');
    const pub = publisher(g, 'topic:news');
    await sleep(10);
    const ack = await c.request({ op: 'sub', id: 1, topics: ['news'], since: { 'topic:news': since }, epoch: g.bus.epoch() });
    expect(ack).toMatchObject({ op: 'ack', results: { 'topic:news': { ok: true, recovered: true } } });
    await sleep(20);
    await pub.stop();
    const all = [...pre, ...pub.seqs];
    await c.waitMessages('topic:news', all.length);
    await sleep(20);
    expect(seqsOf(c, 'topic:news')).toEqual(all);
  });

  it('sends nothing twice when the live stream lags behind history (a bus repairing a gap)', async () => {
    gw = await startTestGateway({ HISTORY_SIZE: '5000' }, withLaggingLive(new MemoryBus({ history: { maxPerChannel: 5000 } }), 40));
    const g = gw;
    const since = await g.publish('topic:orders.lag', 'old');
    const c = await open(g, 'lara');
    const watcher = await open(g, 'walt');
    await watcher.request({ op: 'sub', id: 0, topics: ['orders.lag'] }); // keeps bus interest, so the lag applies before the recovery
    const pub = publisher(g, 'topic:orders.lag');
    await sleep(15);
    const ack = await c.request({ op: 'sub', id: 1, topics: ['orders.lag'], since: { 'topic:orders.lag': since }, epoch: g.bus.epoch() });
    expect(ack).toMatchObject({ op: 'ack', results: { 'topic:orders.lag': { ok: true, recovered: true } } });
    await sleep(30);
    await pub.stop();
    await c.waitMessages('topic:orders.lag', pub.seqs.length, 5000);
    await sleep(80); // a duplicate would arrive within the lag
    expect(seqsOf(c, 'topic:orders.lag')).toEqual(pub.seqs);
  });

  it('recovers the live personal channel in place after a detected gap (topics may be empty)', async () => {
    const g = await start();
    const c = await open(g, 'frank');
    const s1 = await g.publish('user:frank', 1);
    const s2 = await g.publish('user:frank', 2);
    const s3 = await g.publish('user:frank', 3);
    await c.waitMessages('user:frank', 3);
    const ack = await c.request({ op: 'sub', id: 'gap', topics: [], since: { 'user:frank': s1 } });
    expect(ack).toMatchObject({ op: 'ack', id: 'gap', results: { 'user:frank': { ok: true, recovered: true } } });
    const s4 = await g.publish('user:frank', 4);
    await c.waitMessages('user:frank', 6);
    await sleep(20);
    expect(seqsOf(c, 'user:frank')).toEqual([s1, s2, s3, s2, s3, s4]);
  });

  it('answers recovered:false for a topic when the epoch differs, and subscribes live', async () => {
    const g = await start();
    const since = await g.publish('topic:news', 'old');
    await g.publish('topic:news', 'missed');
    const c = await open(g, 'gina');
    const ack = await c.request({ op: 'sub', id: 1, topics: ['news'], since: { 'topic:news': since }, epoch: 'stale' });
    expect(ack).toMatchObject({ results: { 'topic:news': { ok: true, recovered: false } } });
    const live = await g.publish('topic:news', 'live');
    await c.waitMessages('topic:news', 1);
    expect(seqsOf(c, 'topic:news')).toEqual([live]);
  });
});
