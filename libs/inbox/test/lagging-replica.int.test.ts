/**
 * Reads of the JetStream inbox when the replica answering direct gets lags the stream leader, as
 * one restarted after a failure does for a while (the cause of a CI failure: a `read` receipt
 * right after the restart stopped at the newest message the replica had, and a listing showed
 * the rest unread). Deterministic: the stream's own direct gets are switched off and a stand-in
 * replica answers `$JS.API.DIRECT.GET.<stream>` in the server's format, holding only the first
 * `applied` messages; the leader (STREAM.MSG.GET) is the real server.
 */
import { connect, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { NatsInboxStore } from '../src/index.js';
import { RecordingPublisher } from './contract.js';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let prefixN = 0;
const subs: Subscription[] = [];

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
  for (const s of subs.splice(0)) s.unsubscribe();
});

/** A store whose direct gets are answered by a replica that has applied the stream's first `applied()` messages. */
async function storeWithReplica(applied: () => number): Promise<{ store: NatsInboxStore; events: RecordingPublisher; directGets: () => number }> {
  const events = new RecordingPublisher();
  const store = await NatsInboxStore.open({ nc, prefix: `lag${prefixN++}`, events });
  const stream = store.names.stream;
  const { config } = await jsm.streams.info(stream);
  await jsm.streams.update(stream, { ...config, allow_direct: false });
  let directGets = 0;
  const sub = nc.subscribe(`$JS.API.DIRECT.GET.${stream}`, {
    callback: (_err, m: Msg) => {
      directGets++;
      const q = m.json<{ seq: number; next_by_subj: string }>();
      void jsm.streams.getMessage(stream, { seq: q.seq, next_by_subj: q.next_by_subj } as MsgRequest).then((sm) => {
        if (sm === null || sm.seq > applied()) {
          m.respond(new Uint8Array(0), { headers: headers(404, 'Message Not Found') });
          return;
        }
        const h = headers();
        for (const k of sm.header.keys()) for (const one of sm.header.values(k)) h.append(k, one);
        h.set('Nats-Stream', stream);
        h.set('Nats-Subject', sm.subject);
        h.set('Nats-Sequence', String(sm.seq));
        h.set('Nats-Time-Stamp', sm.timestamp);
        m.respond(sm.data, { headers: h });
      });
    },
  });
  subs.push(sub);
  await nc.flush();
  return { store, events, directGets: () => directGets };
}

it('a listing sees every acknowledged message, the ones the replica lacks read from the leader', async () => {
  let applied = Number.MAX_SAFE_INTEGER;
  const { store, directGets } = await storeWithReplica(() => applied);
  const seqs: number[] = [];
  for (let i = 0; i < 6; i++) {
    seqs.push((await store.append('u1', { data: `m${i}`, id: `m${i}` })).seq);
    await store.append('u9', { data: 'another user', id: `o${i}` }); // the leader must skip these: seqs of other subjects between
  }
  // An honest replica: nothing is read from the leader but the end-of-subject check.
  expect((await store.list('u1')).messages.map((m) => m.seq)).toEqual(seqs);
  expect(store.stats.lagReads).toBe(0);
  expect(directGets()).toBeGreaterThan(0);

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
