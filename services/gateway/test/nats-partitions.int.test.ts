// A gateway on NATS with HERALD_NATS_PARTITIONS=3: channels of different partitions carry seqs of
// different streams (here the same seq on two channels), and every seq comparison stays within
// one channel: live delivery, `sub` with `since`, and SSE recovery with Last-Event-ID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBus, partitionOf, type Bus } from '@herald/bus';
import { connectWs, startNatsServer, type NatsServerHandle, type WsTestClient } from '@herald/testkit';
import { mint, startTestGateway, type TestGateway } from './helpers.js';
import { connectSse, decodeEventId, type SseTestClient } from './sse-client.js';

const PARTITIONS = 3;

/** The first topic `<base>-<i>` of a partition. */
function topicIn(partition: number, base: string): string {
  for (let i = 0; ; i++) if (partitionOf(`topic:${base}-${i}`, PARTITIONS) === partition) return `${base}-${i}`;
}

describe('gateway on NATS with three partitions', () => {
  let nats: NatsServerHandle;
  let publisher: Bus;
  let gw: TestGateway;
  const sockets: WsTestClient[] = [];
  const streams: SseTestClient[] = [];
  // fresh streams: the first message of partitions 1 and 2 are both seq 1 (no other traffic there)
  const t1 = topicIn(1, 'alpha');
  const t2 = topicIn(2, 'beta');

  beforeAll(async () => {
    nats = await startNatsServer();
    const history = { maxPerChannel: 100, maxAgeMs: 3_600_000 };
    const [gwBus, pubBus] = await Promise.all([
      openBus({ natsUrl: nats.url, history, partitions: PARTITIONS, name: 'gw-partitions' }),
      openBus({ natsUrl: nats.url, history, partitions: PARTITIONS, name: 'publisher' }),
    ]);
    publisher = pubBus;
    gw = await startTestGateway({ NATS_URL: nats.url, NATS_PARTITIONS: String(PARTITIONS), UNSUBSCRIBE_LINGER_MS: '0' }, gwBus);
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    for (const c of sockets) c.terminate();
    await gw?.close();
    await publisher?.close();
    await nats?.stop();
  });

  const publish = async (topic: string, data: unknown): Promise<number> => (await publisher.publish({ channel: `topic:${topic}`, data: JSON.stringify(data) })).seq;

  it('delivers channels of two partitions whose seqs are equal, and recovers each from its own seq', async () => {
    const a = await connectWs(gw.url, { token: mint({ sub: 'ana', topics: [t1, t2] }) });
    sockets.push(a);
    const epoch = (await a.waitFrame((f) => f.op === 'welcome')) as { epoch: string };
    expect(await a.request({ op: 'sub', id: 1, topics: [t1, t2] })).toMatchObject({ results: { [`topic:${t1}`]: { ok: true }, [`topic:${t2}`]: { ok: true } } });
    const s1 = [await publish(t1, 'a0'), await publish(t1, 'a1')];
    const s2 = [await publish(t2, 'b0')];
    expect(s1).toEqual([1, 2]);
    expect(s2).toEqual([1]); // the same seq as t1's first message: another stream
    await a.waitMessages(`topic:${t1}`, 2);
    await a.waitMessages(`topic:${t2}`, 1);
    a.terminate();

    // missed while away: t2 continues from 1, t1 from 2
    const m1 = [await publish(t1, 'a2')];
    const m2 = [await publish(t2, 'b1'), await publish(t2, 'b2')];
    const b = await connectWs(gw.url, { token: mint({ sub: 'ana', topics: [t1, t2] }) });
    sockets.push(b);
    await b.waitFrame((f) => f.op === 'welcome');
    const ack = await b.request({ op: 'sub', id: 2, topics: [t1, t2], since: { [`topic:${t1}`]: s1[1], [`topic:${t2}`]: s2[0] }, epoch: epoch.epoch });
    expect(ack).toMatchObject({ results: { [`topic:${t1}`]: { ok: true, recovered: true }, [`topic:${t2}`]: { ok: true, recovered: true } } });
    expect((await b.waitMessages(`topic:${t1}`, 1)).map((m) => [m.seq, m.data])).toEqual([[m1[0], 'a2']]);
    expect((await b.waitMessages(`topic:${t2}`, 2)).map((m) => [m.seq, m.data])).toEqual([[m2[0], 'b1'], [m2[1], 'b2']]);
    // live again on both
    const l1 = await publish(t1, 'a3');
    const l2 = await publish(t2, 'b3');
    expect((await b.waitMessages(`topic:${t1}`, 2)).map((m) => m.seq)).toEqual([m1[0], l1]);
    expect((await b.waitMessages(`topic:${t2}`, 3)).map((m) => m.seq)).toEqual([...m2, l2]);
  });

  it('recovers an SSE stream with Last-Event-ID holding a position per channel across partitions', async () => {
    const token = mint({ sub: 'sse-user', topics: [t1, t2] });
    const a = await connectSse(gw.httpUrl, { token, topics: [t1, t2] });
    streams.push(a);
    await a.waitEvent((e) => e.event === 'welcome');
    const x1 = await publish(t1, 'x1');
    const x2 = await publish(t2, 'x2');
    await a.waitMessages(`topic:${t1}`, 1);
    await a.waitMessages(`topic:${t2}`, 1);
    expect(decodeEventId(a.lastEventId).seqs).toMatchObject({ [`topic:${t1}`]: x1, [`topic:${t2}`]: x2 });
    a.close();
    const missed1 = [await publish(t1, 'y1'), await publish(t1, 'y2')];
    const missed2 = [await publish(t2, 'y3')];
    const b = await connectSse(gw.httpUrl, { token, topics: [t1, t2], lastEventId: a.lastEventId });
    streams.push(b);
    expect((await b.waitEvent((e) => e.event === 'welcome')).json).toMatchObject({ recovered: true, epoch: gw.bus.epoch() });
    expect((await b.waitMessages(`topic:${t1}`, 2)).map((m) => m.seq)).toEqual(missed1);
    expect((await b.waitMessages(`topic:${t2}`, 1)).map((m) => m.seq)).toEqual(missed2);
  });
});
