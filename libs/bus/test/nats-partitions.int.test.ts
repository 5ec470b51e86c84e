// NatsBus with HERALD_NATS_PARTITIONS > 1 on one nats-server 2.9: one stream per partition, each
// channel stored and delivered within its own partition, backends publishing straight to JetStream,
// and the start-up refusal of a partition count that differs from the one the streams record.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { freePort, startNatsServer, waitFor, type NatsServerHandle } from '@herald/testkit';
import type { BusMessage } from '../src/bus.js';
import { BusError } from '../src/errors.js';
import { NatsBus } from '../src/nats-bus.js';
import { epochOf, streamConfig } from '../src/nats-stream.js';
import { subjectScheme } from '../src/subjects.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const THREE = subjectScheme('herald', 3);

/** The first `count` channels `<base>-<i>` of a partition (of three). */
function channelsOf(partition: number, count: number, base = 'user:p'): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < count; i++) if (THREE.partitionOf(`${base}-${i}`) === partition) found.push(`${base}-${i}`);
  return found;
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const outcome = await p.then(async (v) => v, (e: unknown) => ({ rejected: e }));
  if (!(typeof outcome === 'object' && outcome !== null && 'rejected' in outcome)) {
    if (outcome instanceof NatsBus) await outcome.close();
    throw new Error('expected a rejection');
  }
  return outcome.rejected as Error;
}

/** Messages nats-server sent to the connection named `name` (its `/connz` monitoring view). */
async function messagesTo(monitor: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitor}/connz?limit=1024`);
  const body = (await res.json()) as { connections: { name?: string; out_msgs: number }[] };
  const conn = body.connections.find((c) => c.name === name);
  if (!conn) throw new Error(`no connection named ${name}`);
  return conn.out_msgs;
}

describe('NatsBus with three partitions', () => {
  let server: NatsServerHandle;
  let monitor: number;
  let bus: NatsBus;
  let pub: NatsBus;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    monitor = await freePort();
    server = await startNatsServer({ extraConf: [`http: 127.0.0.1:${monitor}`] });
    bus = await NatsBus.connect({ servers: server.url, partitions: 3, name: 'node' });
    pub = await NatsBus.connect({ servers: server.url, partitions: 3, name: 'publisher' });
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await Promise.allSettled([nc?.close(), bus?.close(), pub?.close()]);
    await server?.stop();
  });

  it('makes one stream per partition (HERALD, HERALD_P1, HERALD_P2), each on its own subjects', async () => {
    const infos = await Promise.all(['HERALD', 'HERALD_P1', 'HERALD_P2'].map((name) => jsm.streams.info(name)));
    expect(infos.map((i) => i.config.subjects)).toEqual([['herald.in.0.>'], ['herald.in.1.>'], ['herald.in.2.>']]);
    expect(infos.map((i) => i.config.republish)).toEqual([
      expect.objectContaining({ src: 'herald.in.0.>', dest: 'herald.out.0.>' }),
      expect.objectContaining({ src: 'herald.in.1.>', dest: 'herald.out.1.>' }),
      expect.objectContaining({ src: 'herald.in.2.>', dest: 'herald.out.2.>' }),
    ]);
    expect(infos.map((i) => i.config.description)).toEqual([0, 1, 2].map((k) => `Herald history: partition ${k} of 3 (HERALD_NATS_PARTITIONS=3)`));
    expect(pub.epoch()).toBe(bus.epoch());
  });

  it('stores each channel in its partition with that stream\'s seqs, and keeps seqs, history and delivery per channel', async () => {
    // one channel per partition, two in partition 1: seqs repeat across partitions, never within one
    const [a0] = channelsOf(0, 1);
    const [a1, b1] = channelsOf(1, 2);
    const [a2] = channelsOf(2, 1);
    const channels = [a0, a1, b1, a2] as string[];
    const got = new Map<string, BusMessage[]>(channels.map((c) => [c, []]));
    for (const c of channels) await bus.subscribe(c, (m) => void got.get(c)?.push(m));
    const before = await Promise.all(['HERALD', 'HERALD_P1', 'HERALD_P2'].map(async (n) => (await jsm.streams.info(n)).state.last_seq));
    const seqs = new Map<string, number[]>(channels.map((c) => [c, []]));
    for (let i = 0; i < 3; i++) {
      for (const c of channels) seqs.get(c)?.push((await pub.publish({ channel: c, data: JSON.stringify(i) })).seq);
    }
    // partition 1 interleaves two channels in one stream; partitions 0 and 2 hold one each
    expect(seqs.get(a0 as string)).toEqual([1, 2, 3].map((i) => (before[0] as number) + i));
    expect(seqs.get(a2 as string)).toEqual([1, 2, 3].map((i) => (before[2] as number) + i));
    expect(seqs.get(a1 as string)).toEqual([1, 3, 5].map((i) => (before[1] as number) + i));
    expect(seqs.get(b1 as string)).toEqual([2, 4, 6].map((i) => (before[1] as number) + i));
    await waitFor(() => [...got.values()].every((ms) => ms.length === 3), 5_000, 'three live messages per channel');
    for (const c of channels) {
      const s = seqs.get(c) as number[];
      expect(got.get(c)?.map((m) => [m.channel, m.seq, m.prev])).toEqual(s.map((seq, i) => [c, seq, i === 0 ? 0 : s[i - 1]]));
      const page = await pub.history(c);
      expect(page.messages.map((m) => [m.seq, m.prev, m.data])).toEqual(s.map((seq, i) => [seq, i === 0 ? 0 : s[i - 1], JSON.stringify(i)]));
      expect(page.complete).toBe(true);
      expect(page.epoch).toBe(bus.epoch());
      const rest = await pub.history(c, { since: s[0] as number });
      expect(rest.messages.map((m) => m.seq)).toEqual(s.slice(1));
      expect(rest.messages[0]?.prev).toBe(s[0]);
      expect(bus.position(c)).toBe(s[2]);
      await bus.unsubscribe(c);
    }
    const stored = await Promise.all(['HERALD', 'HERALD_P1', 'HERALD_P2'].map(async (n, k) => (await jsm.streams.info(n)).state.last_seq - (before[k] as number)));
    expect(stored).toEqual([3, 6, 3]);
  });

  it('dedupes per channel within its partition', async () => {
    const [c] = channelsOf(2, 1, 'topic:dedupe');
    const first = await pub.publish({ channel: c as string, data: '1', id: 'k1' });
    expect(await pub.publish({ channel: c as string, data: '1', id: 'k1' })).toEqual({ channel: c, seq: first.seq, duplicate: true });
    const [other] = channelsOf(2, 2, 'topic:dedupe').slice(1);
    expect((await pub.publish({ channel: other as string, data: '1', id: 'k1' })).duplicate).toBe(false);
  });

  it('delivers and stores what a backend publishes with JetStream to the channel\'s partition subject', async () => {
    const [ch] = channelsOf(1, 1, 'user:backend');
    const got: BusMessage[] = [];
    await bus.subscribe(ch as string, (m) => void got.push(m));
    const js = jetstream(nc);
    const h = headers();
    h.set('Herald-Ts', '1700000000000');
    const subject = subjectScheme('herald', 3).in(ch as string);
    expect(subject.startsWith('herald.in.1.user.')).toBe(true);
    const ack = await js.publish(subject, JSON.stringify({ from: 'backend' }), { headers: h, msgID: 'b-1' });
    expect(ack.stream).toBe('HERALD_P1');
    expect((await js.publish(subject, JSON.stringify({ from: 'backend' }), { msgID: 'b-1' })).duplicate).toBe(true);
    await waitFor(() => got.length === 1, 5_000, 'the backend message, live');
    expect(got[0]).toMatchObject({ channel: ch, seq: ack.seq, ts: 1_700_000_000_000, data: '{"from":"backend"}' });
    expect((await pub.history(ch as string)).messages.map((m) => m.seq)).toEqual([ack.seq]);
    // A backend unaware of partitions publishing to the subject of one partition is refused (no stream holds it) ...
    await expect(js.publish(subject.replace('herald.in.1.', 'herald.in.'), '"lost"', { timeout: 2_000 })).rejects.toThrow();
    // ... and one publishing under another partition's subjects stores where nobody reads this channel.
    const misrouted = await js.publish(subject.replace('herald.in.1.', 'herald.in.2.'), '"lost"');
    expect(misrouted.stream).toBe('HERALD_P2');
    await sleep(200);
    expect(got).toHaveLength(1);
    expect((await pub.history(ch as string)).messages).toHaveLength(1);
    await bus.unsubscribe(ch as string);
  });

  it('routes by interest: a node receives the messages of its channels in every partition and no other', async () => {
    // ten channels of the node, spread over the three partitions, and ninety others
    const mine = [...channelsOf(0, 4, 'user:mine'), ...channelsOf(1, 3, 'user:mine'), ...channelsOf(2, 3, 'user:mine')];
    const others = [...channelsOf(0, 30, 'user:other'), ...channelsOf(1, 30, 'user:other'), ...channelsOf(2, 30, 'user:other')];
    let delivered = 0;
    for (const c of mine) await bus.subscribe(c, () => void delivered++);
    const before = await messagesTo(monitor, 'node');
    for (let round = 0; round < 10; round++) {
      await Promise.all([...mine, ...others].map((channel) => pub.publish({ channel, data: String(round) })));
    }
    await waitFor(() => delivered === 100, 5_000, 'the node\'s 100 messages');
    await sleep(200);
    // monitoring refreshes its counters as it answers; no other traffic reaches the node meanwhile
    const received = (await messagesTo(monitor, 'node')) - before;
    expect(delivered).toBe(100);
    expect(received).toBeGreaterThanOrEqual(100);
    expect(received / delivered).toBeLessThanOrEqual(1.1);
    for (const c of mine) await bus.unsubscribe(c);
  });

  it('probes through partition 0', async () => {
    expect(await bus.probe('node-x', 5_000)).toBeGreaterThanOrEqual(0);
    const canary = await jsm.streams.info('HERALD', { subjects_filter: 'herald.in.0.canary.>' });
    expect(Object.keys(canary.state.subjects ?? {})).toContain('herald.in.0.canary.node-x');
  });

  it('refuses to start with another partition count, says what to do, and leaves the streams as they were', async () => {
    for (const partitions of [1, 2, 4]) {
      const err = await rejection(NatsBus.connect({ servers: server.url, partitions, timeoutMs: 2_000, startupTimeoutMs: 2_000 }));
      expect(err).toBeInstanceOf(BusError);
      expect((err as BusError).code).toBe('unavailable');
      expect(err.message).toContain(`stream HERALD holds partition 0 of 3 (HERALD_NATS_PARTITIONS=3), this process runs with HERALD_NATS_PARTITIONS=${partitions}`);
      expect(err.message).toContain('delete the streams HERALD, HERALD_P1, HERALD_P2');
    }
    expect((await jsm.streams.info('HERALD')).config.description).toBe('Herald history: partition 0 of 3 (HERALD_NATS_PARTITIONS=3)');
    await expect(jsm.streams.info('HERALD_P3')).rejects.toThrow();
  });

  it('adopts a stream made before partitions as partition 0 of 1, with its epoch; refuses it for three', async () => {
    const legacy = subjectScheme('legacy');
    const { description: _unused, ...before } = streamConfig('LEGACY', { maxPerChannel: 100, maxAgeMs: 3_600_000, dedupeWindowMs: 120_000 }, 1, legacy);
    const made = await jsm.streams.add(before);
    expect(made.config.description ?? '').toBe('');
    const err = await rejection(NatsBus.connect({ servers: server.url, stream: 'LEGACY', prefix: 'legacy', partitions: 3, timeoutMs: 2_000, startupTimeoutMs: 2_000 }));
    expect(err.message).toContain('stream LEGACY holds partition 0 of 1 (HERALD_NATS_PARTITIONS=1), this process runs with HERALD_NATS_PARTITIONS=3');
    expect(err.message).toContain('delete the stream LEGACY ');
    await expect(jsm.streams.info('LEGACY_P1')).rejects.toThrow();
    const one = await NatsBus.connect({ servers: server.url, stream: 'LEGACY', prefix: 'legacy', partitions: 1 });
    try {
      expect(one.epoch()).toBe(epochOf(made));
      expect((await jsm.streams.info('LEGACY')).config.description).toBe('Herald history: partition 0 of 1 (HERALD_NATS_PARTITIONS=1)');
    } finally {
      await one.close();
    }
  });
});
