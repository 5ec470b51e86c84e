/**
 * The inbox on a 3-server JetStream cluster with R3: the stream leader is SIGKILLed while
 * messages are appended and receipts acknowledged, then restarted. Counts what an
 * acknowledged append lost (must be 0), duplicates in the inbox (must be 0), and receipt
 * events: published (duplicates included), kept by the events stream's dedupe window, and
 * distinct ids (exactly one per transition).
 * Run: flock /tmp/herald-heavy.lock npx vitest run libs/inbox/test/fault.int.test.ts
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { eventNames, NatsEventPublisher, type AnyEvent, type EventPublisher } from '@herald/events';
import { startNatsCluster, waitFor, type NatsClusterHandle } from '@herald/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InboxError, NatsInboxStore } from '../src/index.js';

const PREFIX = 'fault';
const MESSAGES = 150;
const USERS = 5;

let cluster: NatsClusterHandle;
let nc: NatsConnection;

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  nc = await connect({ servers: cluster.urls.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 100, timeout: 5000 });
}, 90_000);
afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
});

/** Retries an operation the cluster could not serve (leader election, reconnect), bounded. */
async function retry<T>(what: string, op: () => Promise<T>, counter: { retries: number }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= 120 || !(err instanceof InboxError) || err.code === 'invalid') throw new Error(`${what} failed after ${attempt} attempts`, { cause: err });
      counter.retries++;
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500)));
    }
  }
}

class Counting implements EventPublisher {
  published = 0;
  readonly ids = new Set<string>();
  constructor(private readonly inner: EventPublisher) {}
  async publish(event: AnyEvent): Promise<void> {
    await this.inner.publish(event);
    this.published++;
    this.ids.add(event.id);
  }
}

it('R3: a killed and restarted stream leader loses no acknowledged message, duplicates none, and each receipt event is stored once', async () => {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const names = eventNames(PREFIX);
  await jsm.streams.add({ name: names.eventsStream, subjects: [names.eventsWildcard], storage: StorageType.File, num_replicas: 3, duplicate_window: 120_000_000_000 });
  const events = new Counting(new NatsEventPublisher(nc, names));
  const store = await NatsInboxStore.open({ nc, prefix: PREFIX, replicas: 3, events });
  const counter = { retries: 0 };
  const acked = new Map<string, { user: string; seq: number }>();
  const lastSeq = new Map<string, number>();
  let killed: string | undefined;

  for (let i = 0; i < MESSAGES; i++) {
    if (i === 50) {
      const leader = (await store.streamInfo()).cluster?.leader;
      const victim = cluster.servers.find((s) => s.name === leader) ?? cluster.servers[0];
      killed = victim?.name;
      await victim?.kill();
    }
    if (i === 100) await cluster.servers.find((s) => s.name === killed)?.restart();
    const user = `user-${i % USERS}`;
    const id = `msg-${i}`;
    const r = await retry(`append ${id}`, () => store.append(user, { data: JSON.stringify({ i }), id }), counter);
    acked.set(id, { user, seq: r.seq });
    lastSeq.set(user, r.seq);
    if (i % 10 === 9) await retry(`delivered ${user}`, () => store.markDelivered(user, r.seq), counter);
  }
  for (const [user, seq] of lastSeq) {
    await retry(`delivered ${user}`, () => store.markDelivered(user, seq), counter);
    await retry(`read ${user}`, () => store.markRead(user, seq), counter);
  }

  let lost = 0;
  let duplicates = 0;
  for (let u = 0; u < USERS; u++) {
    const user = `user-${u}`;
    const seen = new Map<string, number>();
    let after = 0;
    for (;;) {
      const page = await retry('list', () => store.list(user, { after, limit: 1000 }), counter);
      for (const m of page.messages) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
      if (page.next === undefined) break;
      after = page.next;
    }
    for (const [id, a] of acked) if (a.user === user && !seen.has(id)) lost++;
    for (const n of seen.values()) if (n > 1) duplicates += n - 1;
    const listing = await retry('list', () => store.list(user, { limit: 1000 }), counter);
    const unread = listing.messages.filter((m) => m.state !== 'read').map((m) => m.seq);
    expect({ user, unread, lastSeq: lastSeq.get(user), readMark: listing.read }).toEqual({ user, unread: [], lastSeq: lastSeq.get(user), readMark: lastSeq.get(user) });
  }
  const stored = (await jsm.streams.info(names.eventsStream)).state.messages;
  const info = await store.streamInfo();
  console.log(
    `[inbox R3 fault] killed ${killed}: ${acked.size} messages acknowledged, lost ${lost}, duplicated ${duplicates}; ` +
      `${counter.retries} retries; receipt events published ${events.published}, distinct ids ${events.ids.size}, ` +
      `kept by the events stream ${stored} (expected ${2 * MESSAGES}); inbox stream ${info.state.messages} msgs ${info.state.bytes} bytes; ` +
      `${store.stats.lagReads} messages read from the leader past a lagging replica`,
  );
  expect(lost).toBe(0);
  expect(duplicates).toBe(0);
  expect(events.ids.size).toBe(2 * MESSAGES);
  expect(stored).toBe(2 * MESSAGES);
  await store.close();
}, 240_000);

it('R3: three replicas on three servers race the same receipts while the receipts bucket leader is killed: one event per transition, final state complete', async () => {
  const RACE_PREFIX = 'race';
  const PER_USER = 20;
  const RUSERS = 3;
  const urls = cluster.urls.split(',');
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const names = eventNames(RACE_PREFIX);
  await waitFor(() => jsm.streams.info(eventNames(PREFIX).eventsStream).then(() => true, () => false), 60_000, 'JetStream answering', 500);
  await jsm.streams.add({ name: names.eventsStream, subjects: [names.eventsWildcard], storage: StorageType.File, num_replicas: 3, duplicate_window: 120_000_000_000 });
  // Each replica starts on its own server (the list rotated, not shuffled) and fails over to the others.
  const conns = await Promise.all(urls.map((_, i) => connect({
    servers: [...urls.slice(i), ...urls.slice(0, i)], noRandomize: true, maxReconnectAttempts: -1, reconnectTimeWait: 100, timeout: 5000,
  })));
  const events = new Counting(new NatsEventPublisher(nc, names));
  // Right after the first test's restart the cluster may still be catching up: JetStream API calls can time out for a while.
  const replicas = await Promise.all(conns.map((c) => waitFor(
    () => NatsInboxStore.open({ nc: c, prefix: RACE_PREFIX, replicas: 3, events }).catch(() => undefined), 60_000, 'inbox store open', 500,
  )));
  const counter = { retries: 0 };
  const seqs = new Map<string, number[]>();
  for (let u = 0; u < RUSERS; u++) {
    const user = `racer-${u}`;
    const list: number[] = [];
    for (let i = 0; i < PER_USER; i++) list.push((await retry('append', () => (replicas[0] as NatsInboxStore).append(user, { data: String(i), id: `r-${i}` }), counter)).seq);
    seqs.set(user, list);
  }
  const stateLeader = (await jsm.streams.info(`KV_${replicas[0]?.names.stateBucket}`)).cluster?.leader;
  let victim: string | undefined;
  for (let step = 0; step < PER_USER; step++) {
    if (step === PER_USER / 2) {
      const server = cluster.servers.find((s) => s.name === stateLeader) ?? cluster.servers[1];
      victim = server?.name;
      await server?.kill();
    }
    // Every replica acknowledges the same mark for every user at once: delivered at this step, read one step behind.
    await Promise.all(replicas.flatMap((r) => [...seqs].flatMap(([user, list]) => {
      const ops = [retry('delivered', () => r.markDelivered(user, list[step] as number), counter)];
      if (step > 0) ops.push(retry('read', () => r.markRead(user, list[step - 1] as number), counter));
      return ops;
    })));
  }
  await cluster.servers.find((s) => s.name === victim)?.restart();
  await Promise.all(replicas.flatMap((r) => [...seqs].map(([user, list]) => retry('read', () => r.markRead(user, list.at(-1) as number), counter))));
  // Verifications run VERIFY_AFTER_MS after each write: wait until none can still be pending.
  // A read may fail `unavailable` while the restarted server catches up (its consumer timed out once in CI): retried like the rest.
  await waitFor(async () => {
    for (const [user, list] of seqs) {
      const l = await retry('list', () => (replicas[2] as NatsInboxStore).list(user, { limit: 1000 }), counter);
      if (l.delivered !== list.at(-1) || l.read !== list.at(-1)) return false;
    }
    return true;
  }, 30_000, 'final receipts state');
  const stored = (await jsm.streams.info(names.eventsStream)).state.messages;
  const repaired = replicas.reduce((n, r) => n + r.stats.repaired, 0);
  console.log(
    `[inbox R3 race] killed ${victim} (receipts bucket leader): ${RUSERS * PER_USER} messages, 3 replicas racing; ${counter.retries} retries; ` +
      `events published ${events.published} (${events.published - events.ids.size} duplicates before dedupe), distinct ids ${events.ids.size}, ` +
      `kept by the events stream ${stored} (expected ${2 * RUSERS * PER_USER}); dropped writes repaired ${repaired}`,
  );
  expect(events.ids.size).toBe(2 * RUSERS * PER_USER);
  expect(stored).toBe(2 * RUSERS * PER_USER);
  await Promise.all(replicas.map((r) => r.close()));
  await Promise.all(conns.map((c) => c.close()));
}, 240_000);
