/**
 * Reads of the JetStream inbox when the replica answering direct gets lags the stream leader, as
 * one restarted after a failure does for a while (the cause of a CI failure: a `read` receipt
 * right after the restart stopped at the newest message the replica had, and a listing showed
 * the rest unread). Deterministic: the stream's own direct gets are switched off and a stand-in
 * replica (startLaggingReplica of @herald/testkit) answers them in the server's format, holding
 * only the first `applied` messages; the leader (STREAM.MSG.GET) is the real server.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startLaggingReplica, startNatsServer, type LaggingReplica, type NatsServerHandle } from '@herald/testkit';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { NatsInboxStore } from '../src/index.js';
import { RecordingPublisher } from './contract.js';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let prefixN = 0;
const replicas: LaggingReplica[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
}, 30_000);
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});
beforeEach(() => {
  for (const r of replicas.splice(0)) r.stop();
});

/** A store whose direct gets are answered by a replica that has applied the stream's first `applied()` messages. */
async function storeWithReplica(applied: () => number): Promise<{ store: NatsInboxStore; events: RecordingPublisher; replica: LaggingReplica }> {
  const events = new RecordingPublisher();
  const store = await NatsInboxStore.open({ nc, prefix: `lag${prefixN++}`, events });
  const stream = store.names.stream;
  const { config } = await jsm.streams.info(stream);
  await jsm.streams.update(stream, { ...config, allow_direct: false });
  const replica = await startLaggingReplica(nc, jsm, stream, applied);
  replicas.push(replica);
  return { store, events, replica };
}

it('a listing sees every acknowledged message, the ones the replica lacks read from the leader', async () => {
  let applied = Number.MAX_SAFE_INTEGER;
  const { store, replica } = await storeWithReplica(() => applied);
  const seqs: number[] = [];
  for (let i = 0; i < 6; i++) {
    seqs.push((await store.append('u1', { data: `m${i}`, id: `m${i}` })).seq);
    await store.append('u9', { data: 'another user', id: `o${i}` }); // the leader must skip these: seqs of other subjects between
  }
  // An honest replica: nothing is read from the leader but the end-of-subject check.
  expect((await store.list('u1')).messages.map((m) => m.seq)).toEqual(seqs);
  expect(store.stats.lagReads).toBe(0);
  expect(replica.answered).toBeGreaterThan(0);

  applied = seqs[1] as number;
  expect((await store.list('u1')).messages.map((m) => m.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  expect(store.stats.lagReads).toBe(4);
  expect((await store.pending('u1', 0, 100)).messages.map((m) => m.id)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  await store.close();
});

it('a read receipt up to the newest message marks every message read, with one event each, though the replica lacks the newest', async () => {
  let applied = 0;
  const { store, events } = await storeWithReplica(() => applied);
  const seqs: number[] = [];
  for (let i = 0; i < 5; i++) seqs.push((await store.append('u2', { data: `m${i}`, id: `m${i}` })).seq);
  applied = seqs[2] as number;
  const last = seqs[4] as number;
  const r = await store.markRead('u2', last);
  expect(r.read).toBe(last);
  expect(events.distinct().filter((e) => e.type === 'message.read').map((e) => (e.data as { seq: number }).seq)).toEqual(seqs);
  const listing = await store.list('u2');
  expect(listing.messages.map((m) => m.state)).toEqual(['read', 'read', 'read', 'read', 'read']);
  // A page stops where it is full, wherever the messages come from.
  expect((await store.list('u2', { limit: 4 })).next).toBe(seqs[3]);
  await store.close();
});
