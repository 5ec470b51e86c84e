// NatsBus on one nats-server 2.9: what RePublish really sends, history reads (shape, speed, eviction), openBus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startLaggingReplica, startNatsServer, waitFor, type NatsServerHandle } from '@herald/testkit';
import { NatsBus } from '../src/nats-bus.js';
import { openBus } from '../src/open-bus.js';
import { BusError } from '../src/errors.js';
import { DIRECT_GETS, HistoryReader } from '../src/nats-history.js';
import { inSubject, outSubject } from '../src/subjects.js';

describe('NatsBus on nats-server 2.9', () => {
  let server: NatsServerHandle;
  let bus: NatsBus;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await NatsBus.connect({ servers: server.url, history: { maxPerChannel: 200 } });
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await Promise.allSettled([nc?.close(), bus?.close()]);
    await server?.stop();
  });

  it('RePublish carries seq, the previous seq of the same subject, and our headers', async () => {
    const got: Msg[] = [];
    const sub = nc.subscribe(outSubject('topic:rp.a'), { callback: (_e, m) => void got.push(m) });
    await nc.flush();
    const a1 = await bus.publish({ channel: 'topic:rp.a', data: '1', id: 'id-1' });
    await bus.publish({ channel: 'topic:rp.b', data: '2' }); // another subject in between
    const a2 = await bus.publish({ channel: 'topic:rp.a', data: '3' });
    await waitFor(() => got.length === 2, 5_000, 'two republished copies');
    sub.unsubscribe();
    const [m1, m2] = got as [Msg, Msg];
    expect(m1.subject).toBe('herald.out.topic.rp.a');
    expect(m1.headers?.get('Nats-Sequence')).toBe(String(a1.seq));
    expect(m1.headers?.get('Nats-Last-Sequence')).toBe('0');
    expect(m2.headers?.get('Nats-Last-Sequence')).toBe(String(a1.seq)); // not the stream's previous seq
    expect(m2.headers?.get('Nats-Sequence')).toBe(String(a2.seq));
    expect(m1.headers?.get('Nats-Subject')).toBe(inSubject('topic:rp.a'));
    // Our headers survive RePublish: the time, the user-facing id, and the hashed Nats-Msg-Id.
    expect(Number(m1.headers?.get('Herald-Ts'))).toBeGreaterThan(Date.now() - 60_000);
    expect(m1.headers?.get('Herald-Id')).toBe('id-1');
    expect(m1.headers?.get('Nats-Msg-Id')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(m2.headers?.has('Herald-Id')).toBe(false);
  });

  it('reads 100 of 300 interleaved messages in order, across direct gets and the consumer, quickly', async () => {
    const ch = 'topic:speed';
    const seqs: number[] = [];
    for (let i = 0; i < 100; i++) {
      const [r] = await Promise.all([
        bus.publish({ channel: ch, data: JSON.stringify({ i }), id: `k${i}` }),
        bus.publish({ channel: 'topic:speed.other', data: '0' }),
        bus.publish({ channel: 'topic:speed.third', data: '0' }),
      ]);
      seqs.push(r.seq);
    }
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const page = await bus.history(ch, { limit: 100 });
      times.push(performance.now() - t0);
      expect(page.messages.map((m) => m.seq)).toEqual(seqs);
      expect(page.messages.map((m) => m.prev)).toEqual([0, ...seqs.slice(0, -1)]);
      expect(page.messages.map((m) => m.id)).toEqual(seqs.map((_, i) => `k${i}`));
      expect(page).toMatchObject({ complete: true, truncated: false });
    }
    const small: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      const page = await bus.history(ch, { since: seqs[94] as number });
      small.push(performance.now() - t0);
      expect(page.messages).toHaveLength(5);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    console.log(`history read: 100 messages median ${median(times).toFixed(1)} ms, 5 messages median ${median(small).toFixed(1)} ms (${DIRECT_GETS} direct gets, then a consumer)`);
    expect(median(times)).toBeLessThan(250);
    const page = await bus.history(ch, { since: seqs[10] as number, limit: 50 });
    expect(page.messages.map((m) => m.seq)).toEqual(seqs.slice(11, 61));
    expect(page.truncated).toBe(true);
  });

  it('computes prev exactly when since is not a seq of the channel', async () => {
    const ch = 'topic:foreign';
    const mine: number[] = [];
    let foreign = 0;
    for (let i = 0; i < 30; i++) {
      mine.push((await bus.publish({ channel: ch, data: String(i) })).seq);
      if (i === 19) foreign = (await bus.publish({ channel: 'topic:foreign.x', data: '0' })).seq;
    }
    const page = await bus.history(ch, { since: foreign });
    expect(page.messages.map((m) => m.seq)).toEqual(mine.slice(20));
    expect(page.messages[0]?.prev).toBe(mine[19]);
    expect(page.complete).toBe(true);
  });

  it('clients recovering from the same position share one read', async () => {
    const ch = 'topic:shared.read';
    const first = await bus.publish({ channel: ch, data: '0' });
    for (let i = 1; i < 3 * DIRECT_GETS; i++) await bus.publish({ channel: ch, data: String(i) }); // needs a consumer
    const reader = new HistoryReader({ nc, jsm: await jetstreamManager(nc), stream: 'HERALD', timeoutMs: 5_000 });
    const reads = Array.from({ length: 50 }, () => reader.read(ch, inSubject(ch), first.seq, 100));
    expect(reader.inflight).toBe(1);
    const other = reader.read(ch, inSubject(ch), first.seq + 1, 100); // another position: its own read
    expect(reader.inflight).toBe(2);
    const pages = await Promise.all(reads);
    expect(pages[0]?.messages).toHaveLength(3 * DIRECT_GETS - 1);
    for (const p of pages) expect(p).toBe(pages[0]);
    expect((await other).messages).toHaveLength(3 * DIRECT_GETS - 2);
    expect(reader.inflight).toBe(0);
  });

  it('a read that times out while its consumer is being created fails cleanly (no unhandled rejection)', async () => {
    const ch = 'topic:slow.consumer.add';
    for (let i = 0; i < 3 * DIRECT_GETS; i++) await bus.publish({ channel: ch, data: String(i) });
    const jsm = await jetstreamManager(nc);
    // A JetStream that takes longer to create a consumer than the read may last (as under a
    // reconnect storm): the timeout fires while consumers.add is still pending.
    let releaseAdd: () => void = () => undefined;
    const addGate = new Promise<void>((r) => (releaseAdd = r));
    const slowAdd: typeof jsm.consumers.add = async (...args) => {
      await addGate;
      return jsm.consumers.add(...args);
    };
    const slowJsm = { ...jsm, consumers: Object.assign(Object.create(jsm.consumers) as typeof jsm.consumers, { add: slowAdd }) } as typeof jsm;
    const reader = new HistoryReader({ nc, jsm: slowJsm, stream: 'HERALD', timeoutMs: 300 });
    const err: unknown = await reader.read(ch, inSubject(ch), 0, 100).then(
      () => undefined,
      (e: unknown) => {
        releaseAdd();
        return e;
      },
    );
    releaseAdd();
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('timeout');
  });

  it('reads past a lagging replica: what it lacks comes from the stream leader, in order, with prev and the page limit kept', async () => {
    // A stream of its own with direct gets off, answered by a stand-in replica that applied only the first messages.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LAGGING', subjects: ['lag.>'], allow_direct: false });
    const js = jetstream(nc);
    const seqs: number[] = [];
    const other: number[] = [];
    for (let i = 0; i < 3 * DIRECT_GETS; i++) {
      seqs.push((await js.publish('lag.a', String(i))).seq);
      other.push((await js.publish('lag.b', 'x')).seq); // another subject in between
    }
    let applied = seqs[1] as number;
    const replica = await startLaggingReplica(nc, jsm, 'LAGGING', () => applied);
    try {
      const reader = new HistoryReader({ nc, jsm, stream: 'LAGGING', timeoutMs: 5_000 });
      const all = await reader.read('topic:a', 'lag.a', 0, 100);
      expect(all.messages.map((m) => [m.seq, m.prev])).toEqual(seqs.map((seq, i) => [seq, i === 0 ? 0 : seqs[i - 1]]));
      expect(all.messages.map((m) => m.data)).toEqual(seqs.map((_, i) => String(i)));
      expect(reader.lagReads).toBe(seqs.length - 2);
      // A client that got the newest messages live recovers from one the replica lacks: held (the leader says so), nothing lost.
      const since = seqs[4] as number;
      const after = await reader.read('topic:a', 'lag.a', since, 100);
      expect(after.messages.map((m) => m.seq)).toEqual(seqs.slice(5));
      expect(after.messages[0]?.prev).toBe(since);
      expect(after.complete).toBe(true);
      const last = await reader.read('topic:a', 'lag.a', seqs.at(-1) as number, 100);
      expect(last).toMatchObject({ messages: [], complete: true });
      // The page limit holds wherever the messages come from.
      const page = await reader.read('topic:a', 'lag.a', 0, 3);
      expect(page.messages.map((m) => m.seq)).toEqual(seqs.slice(0, 3));
      expect(page.truncated).toBe(true);
      // No leader to ask (an election): the replica's answer stands, as it did before the check.
      const noLeader = { ...jsm, streams: Object.assign(Object.create(jsm.streams) as typeof jsm.streams, {
        getMessage: () => Promise.reject(new Error('no leader')),
      }) } as typeof jsm;
      const cut = new HistoryReader({ nc, jsm: noLeader, stream: 'LAGGING', timeoutMs: 5_000 });
      expect((await cut.read('topic:a', 'lag.a', 0, 100)).messages.map((m) => m.seq)).toEqual(seqs.slice(0, 2));
      expect(cut.leaderMisses).toBe(1);
      expect((await cut.read('topic:a', 'lag.a', since, 100)).messages).toEqual([]);
      // A replica that applied everything: the consumer path, and only the end is asked of the leader.
      applied = Number.MAX_SAFE_INTEGER;
      const before = reader.lagReads;
      expect((await reader.read('topic:a', 'lag.a', 0, 100)).messages.map((m) => m.seq)).toEqual(seqs);
      expect(reader.lagReads).toBe(before);
      expect(replica.answered).toBeGreaterThan(0);
    } finally {
      replica.stop();
      await jsm.streams.delete('LAGGING');
    }
  });

  it('answers complete: false after eviction by age, exactly', async () => {
    const own = await startNatsServer(); // one stream per server holds herald.in.>
    let aged: NatsBus | undefined;
    try {
      aged = await NatsBus.connect({ servers: own.url, history: { maxAgeMs: 1_000, maxPerChannel: 10 } });
      const a = await aged.publish({ channel: 'topic:aged', data: '1' });
      const b = await aged.publish({ channel: 'topic:aged', data: '2' });
      const bus2 = aged;
      await waitFor(async () => (await bus2.history('topic:aged')).messages.length === 0, 10_000, 'age eviction');
      const c = await aged.publish({ channel: 'topic:aged', data: '3' });
      const all = await aged.history('topic:aged');
      expect(all.messages.map((m) => [m.seq, m.prev])).toEqual([[c.seq, 0]]);
      expect(all.complete).toBe(false);
      expect((await aged.history('topic:aged', { since: a.seq })).complete).toBe(false); // b was lost
      expect((await aged.history('topic:aged', { since: b.seq })).complete).toBe(true); // nothing lost after b
    } finally {
      await aged?.close();
      await own.stop();
    }
  });
});

describe('openBus', () => {
  it('opens a MemoryBus without a NATS URL and a NatsBus with comma-separated URLs', async () => {
    const memory = await openBus({});
    expect(memory.kind).toBe('memory');
    await memory.close();
    const server = await startNatsServer();
    try {
      const nats = await openBus({ natsUrl: ` ${server.url}, nats://127.0.0.1:1 `, stream: 'OPENED', name: 'open-test' });
      expect(nats.kind).toBe('nats');
      expect(nats.isConnected()).toBe(true);
      const raw = await connect({ servers: server.url });
      const info = await (await jetstreamManager(raw)).streams.info('OPENED');
      await raw.close();
      expect(info.config).toMatchObject({ subjects: ['herald.in.>'], max_msgs_per_subject: 100, allow_direct: true, republish: { src: 'herald.in.>', dest: 'herald.out.>' } });
      const statuses: string[] = [];
      nats.onStatus((st) => statuses.push(st));
      await nats.close();
      await waitFor(() => statuses.includes('closed'), 5_000, 'closed status');
      expect(nats.isConnected()).toBe(false);
      expect(((await nats.publish({ channel: 'topic:a', data: '1' }).catch((e: unknown) => e)) as BusError).code).toBe('closed');
      const err: unknown = await openBus({ natsUrl: 'nats://127.0.0.1:1', timeoutMs: 500 }).catch((e: unknown) => e);
      expect((err as BusError).code).toBe('unavailable');
    } finally {
      await server.stop();
    }
  });
});
