// NatsBus across nats-server restarts: gap repair, catch-up, and publishes that fail while the server is down,
// with one partition and with three (every channel here then in partition 2, stream HERALD_P2).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startNatsServer, waitFor, type NatsServerHandle } from '@herald/testkit';
import type { BusMessage, BusStatus } from '../src/bus.js';
import { BusError } from '../src/errors.js';
import { NatsBus } from '../src/nats-bus.js';
import { partitionStream } from '../src/nats-stream.js';
import { partitionOf } from '../src/subjects.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every seq in order, no duplicate, and each prev pointing at the message before. */
function expectUnbroken(got: readonly BusMessage[], stored: readonly number[]): void {
  expect(got.map((m) => m.seq)).toEqual(stored);
  for (let i = 1; i < got.length; i++) expect(got[i]?.prev).toBe(got[i - 1]?.seq);
}

/** `channel` itself with one partition; with several, the first `<channel>-<i>` in the last partition. */
function inLast(channel: string, partitions: number): string {
  if (partitions === 1) return channel;
  for (let i = 0; ; i++) if (partitionOf(`${channel}-${i}`, partitions) === partitions - 1) return `${channel}-${i}`;
}

for (const partitions of [1, 3]) describe(`NatsBus across server restarts (${partitions} partition${partitions === 1 ? '' : 's'})`, () => {
  let server: NatsServerHandle;
  const buses: NatsBus[] = [];
  const open = async (name: string, reconnectTimeWaitMs?: number): Promise<NatsBus> => {
    const bus = await NatsBus.connect({ servers: server.url, name, timeoutMs: 2_000, partitions, ...(reconnectTimeWaitMs === undefined ? {} : { reconnectTimeWaitMs }) });
    buses.push(bus);
    return bus;
  };

  beforeEach(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((b) => b.close()));
    await server.stop();
  });

  it('repairs the gap left by messages published while the subscriber was reconnecting', async () => {
    const ch = inLast('topic:gap', partitions);
    const subscriber = await open('subscriber', 1_500); // reconnects late on purpose
    const statuses: BusStatus[] = [];
    subscriber.onStatus((s) => statuses.push(s));
    const got: BusMessage[] = [];
    await subscriber.subscribe(ch, (m) => void got.push(m));
    let publisher = await open('publisher-1');
    const stored: number[] = [];
    for (let i = 0; i < 5; i++) stored.push((await publisher.publish({ channel: ch, data: String(i) })).seq);
    await waitFor(() => got.length === 5, 5_000, 'first five');

    await server.kill();
    await waitFor(() => !subscriber.isConnected(), 5_000, 'subscriber sees the disconnect');
    await server.restart();
    // A fresh connection publishes while the subscriber still waits to reconnect.
    publisher = await open('publisher-2');
    for (let i = 5; i < 15; i++) stored.push((await publisher.publish({ channel: ch, data: String(i) })).seq);
    expect(subscriber.isConnected()).toBe(false);
    await waitFor(() => subscriber.isConnected(), 10_000, 'subscriber reconnects');
    for (let i = 15; i < 20; i++) stored.push((await publisher.publish({ channel: ch, data: String(i) })).seq);
    await waitFor(() => got.length >= 20, 10_000, 'all twenty');
    await sleep(200);
    expectUnbroken(got, stored);
    expect(got.map((m) => m.data)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(statuses).toEqual(['disconnected', 'reconnected']);
  });

  it('catches up after a reconnect even when no newer message arrives', async () => {
    const ch = inLast('user:alice.smith *>', partitions);
    const subscriber = await open('subscriber', 1_500);
    const got: BusMessage[] = [];
    await subscriber.subscribe(ch, (m) => void got.push(m));
    await server.kill();
    await waitFor(() => !subscriber.isConnected(), 5_000, 'disconnect');
    await server.restart();
    const publisher = await open('publisher');
    const stored: number[] = [];
    for (let i = 0; i < 3; i++) stored.push((await publisher.publish({ channel: ch, data: String(i) })).seq);
    await waitFor(() => got.length === 3, 10_000, 'catch-up delivers the three');
    expectUnbroken(got, stored);
    expect(got[0]?.prev).toBe(0);
  });

  it('keeps every seq in order while a publisher runs through a restart', async () => {
    const ch = inLast('topic:steady', partitions);
    const subscriber = await open('subscriber');
    const publisher = await open('publisher');
    const got: BusMessage[] = [];
    await subscriber.subscribe(ch, (m) => void got.push(m));
    const stored: number[] = [];
    let running = true;
    let failures = 0;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        try {
          stored.push((await publisher.publish({ channel: ch, data: String(i), id: `s${i}` })).seq);
        } catch (err) {
          // not sent, or sent without an answer in time (perhaps stored): the retry keeps the id
          expect(['unavailable', 'timeout']).toContain((err as BusError).code);
          failures++;
          i--; // retry the same id: stored at most once
          await sleep(20);
        }
      }
    })();
    await waitFor(() => stored.length >= 20, 10_000, 'publishing');
    await server.kill();
    await sleep(300);
    await server.restart();
    await waitFor(() => subscriber.isConnected() && publisher.isConnected(), 10_000, 'both reconnected');
    const after = stored.length;
    await waitFor(() => stored.length >= after + 20, 10_000, 'publishing again');
    running = false;
    await loop;
    await waitFor(() => got.length >= stored.length, 10_000, 'every stored message delivered');
    await sleep(200);
    expect(failures).toBeGreaterThan(0);
    expectUnbroken(got, stored);
    const ids = got.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects publishes while the server is down, stores nothing, and stores a retry once', async () => {
    const ch = inLast('topic:down', partitions);
    const bus = await open('bus');
    await bus.publish({ channel: ch, data: '"before"' });
    await server.kill();
    await waitFor(() => !bus.isConnected(), 5_000, 'disconnect');
    for (const id of ['x', undefined]) {
      const err: unknown = await bus.publish({ channel: ch, data: '"lost"', ...(id ? { id } : {}) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusError);
      expect((err as BusError).code).toBe('unavailable');
    }
    expect(((await bus.history(ch).catch((e: unknown) => e)) as BusError).code).toBe('unavailable');
    expect(((await bus.subscribe(ch, () => undefined).catch((e: unknown) => e)) as BusError).code).toBe('unavailable');
    expect(((await bus.presence({ user: 'u' }).catch((e: unknown) => e)) as BusError).code).toBe('unavailable');
    await server.restart();
    await waitFor(() => bus.isConnected(), 10_000, 'reconnect');
    await sleep(1_000); // anything the client had buffered would have reached the server by now
    expect((await bus.history(ch)).messages.map((m) => m.data)).toEqual(['"before"']);
    const first = await bus.publish({ channel: ch, data: '"retry"', id: 'x' });
    const again = await bus.publish({ channel: ch, data: '"retry"', id: 'x' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ channel: ch, seq: first.seq, duplicate: true });
    expect((await bus.history(ch)).messages.map((m) => m.data)).toEqual(['"before"', '"retry"']);
    expect(await bus.presence({ user: 'u' })).toBe(0);
  });

  it('closes promptly while the server is down', async () => {
    const bus = await open('bus');
    await bus.subscribe('topic:c', () => undefined);
    await server.kill();
    await waitFor(() => !bus.isConnected(), 5_000, 'disconnect');
    const t0 = Date.now();
    await bus.close();
    expect(Date.now() - t0).toBeLessThan(1_000);
    await server.restart(); // afterEach stops it
  });

  it('keeps the epoch across a restart with the store, and changes it when the stream is recreated', async () => {
    const bus = await open('bus');
    const epoch = bus.epoch();
    await server.kill();
    await server.restart();
    await waitFor(() => bus.isConnected(), 10_000, 'reconnect');
    await sleep(300);
    expect(bus.epoch()).toBe(epoch);
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: server.url });
    // one partition's stream recreated is a new epoch for the whole bus
    await (await jetstreamManager(nc)).streams.delete(partitionStream('HERALD', partitions - 1));
    await nc.close();
    const err: unknown = await bus.publish({ channel: inLast('topic:x', partitions), data: '1' }).catch((e: unknown) => e);
    expect((err as BusError).code).toBe('unavailable'); // no stream: no responders
    const fresh = await open('fresh');
    expect(fresh.epoch()).not.toBe(epoch);
  });
});
