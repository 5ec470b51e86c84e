/**
 * Web Push end to end against the stand-in push service of @herald/testkit (real HTTP, VAPID
 * verified, payload decrypted on node:crypto) and real nats-server processes for the KV store
 * and the one-push-per-message claims.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsCluster, startNatsServer, startPushService, waitFor, type NatsServerHandle, type PushServiceHandle, type TestPushSubscription } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkSubscription, generateVapidKeys, KvPushClaims, MAX_PAYLOAD_BYTES, MemoryPushClaims, MemorySubscriptionStore, openKvPush,
  PushDispatcher, PushError, PushRateLimiter, PushSender, topicForMessage, type PushSubscription, type SubscriptionStore, type VapidDetails,
} from '../src/index.js';

const vapid: VapidDetails = { ...generateVapidKeys(), subject: 'mailto:ops@example.com' };
let service: PushServiceHandle;

function toStored(sub: TestPushSubscription): PushSubscription {
  const r = checkSubscription({ endpoint: sub.endpoint, keys: sub.keys }, { allowOrigins: [service.origin] });
  if (!r.ok) throw new Error(r.message);
  return r.subscription;
}

/** A sender that retries at once (the test checks the retry count, not the waiting). */
function sender(): PushSender {
  return new PushSender({ vapid, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5000 }, sleep: () => Promise.resolve() });
}

beforeAll(async () => {
  service = await startPushService();
});
afterAll(async () => {
  await service.close();
});

describe('a push through the stand-in push service', () => {
  it('arrives decrypted with its payload, TTL, Urgency, Topic and a valid VAPID JWT', async () => {
    const sub = service.createSubscription({ applicationServerKey: vapid.publicKey });
    const before = service.received.length;
    const result = await sender().send(toStored(sub), '{"msg":"héllo"}', { ttlSeconds: 120, urgency: 'high', topic: topicForMessage('m-1') });
    expect(result).toEqual({ status: 'sent', httpStatus: 201, attempts: 1 });
    const [push] = (await service.waitForPushes(before + 1)).slice(before);
    expect(push?.text).toBe('{"msg":"héllo"}');
    expect(push?.ttl).toBe(120);
    expect(push?.urgency).toBe('high');
    expect(push?.topic).toBe(topicForMessage('m-1'));
    expect(push?.topic).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(push?.vapid).toMatchObject({ aud: service.origin, sub: 'mailto:ops@example.com', publicKey: vapid.publicKey });
  });

  it('carries the largest payload in one 4096-byte record and refuses one byte more before any request', async () => {
    const testSub = service.createSubscription();
    const sub = toStored(testSub);
    const requests = service.requests.length;
    await expect(sender().send(sub, 'x'.repeat(MAX_PAYLOAD_BYTES + 1), { ttlSeconds: 60 })).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(service.requests.length).toBe(requests);
    expect((await sender().send(sub, 'y'.repeat(MAX_PAYLOAD_BYTES), { ttlSeconds: 60 })).status).toBe('sent');
    const push = service.pushesFor(testSub.id).at(-1);
    expect(push?.payload.length).toBe(MAX_PAYLOAD_BYTES);
    expect(push?.bodyBytes).toBe(4096);
  });

  it('is refused by the push service when signed with another VAPID key (403)', async () => {
    const sub = service.createSubscription({ applicationServerKey: generateVapidKeys().publicKey });
    const result = await sender().send(toStored(sub), 'x', { ttlSeconds: 60 });
    expect(result).toMatchObject({ status: 'failed', httpStatus: 403, retryable: false, attempts: 1 });
  });

  it('retries 429 and 5xx (honouring Retry-After) and gives up on a Retry-After beyond the bound', async () => {
    const sub = service.createSubscription();
    const waits: number[] = [];
    const s = new PushSender({ vapid, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5000 }, sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    service.answerNext(sub.id, { status: 429, retryAfter: '2' }, { status: 503 });
    expect(await s.send(toStored(sub), 'a', { ttlSeconds: 60 })).toEqual({ status: 'sent', httpStatus: 201, attempts: 3 });
    expect(waits[0]).toBe(2000);
    service.answerNext(sub.id, { status: 500 }, { status: 500 }, { status: 500 });
    expect(await s.send(toStored(sub), 'b', { ttlSeconds: 60 })).toMatchObject({ status: 'failed', httpStatus: 500, attempts: 3 });
    service.answerNext(sub.id, { status: 429, retryAfter: '3600' });
    expect(await s.send(toStored(sub), 'c', { ttlSeconds: 60 })).toMatchObject({ status: 'failed', httpStatus: 429, attempts: 1 });
    expect(service.pushesFor(sub.id).map((p) => p.text)).toEqual(['a']);
  });
});

describe('dispatch (memory store and claims)', () => {
  it('removes a subscription the push service calls gone (410, 404) and keeps the live one', async () => {
    const store = new MemorySubscriptionStore();
    const live = service.createSubscription();
    const gone = service.createSubscription();
    const unknown = toStored(service.createSubscription());
    service.answerAlways(gone.id, 410);
    await store.add('u-410', toStored(live));
    await store.add('u-410', toStored(gone));
    await store.add('u-410', { ...unknown, endpoint: `${service.origin}/push/nobody`, id: 'nobody' });
    const d = new PushDispatcher({ sender: sender(), store, claims: new MemoryPushClaims(), node: 'a' });
    const outcome = await d.dispatch({ id: 'gone-1', user: 'u-410', payload: 'p', ttlSeconds: 60 });
    expect(outcome).toMatchObject({ outcome: 'sent', sent: 1, gone: 2 });
    expect((await store.list('u-410')).map((s) => s.endpoint)).toEqual([live.endpoint]);
    expect(await d.dispatch({ id: 'gone-1', user: 'u-410', payload: 'p', ttlSeconds: 60 })).toEqual({ outcome: 'done' });
  });

  it('rate-limits per user: the push beyond the limit is not sent', async () => {
    const store = new MemorySubscriptionStore();
    const sub = service.createSubscription();
    await store.add('u-rate', toStored(sub));
    await store.add('u-other', toStored(service.createSubscription()));
    const d = new PushDispatcher({ sender: sender(), store, claims: new MemoryPushClaims(), node: 'a', rateLimiter: new PushRateLimiter({ perMinute: 2, now: () => 0 }) });
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await d.dispatch({ id: `r-${i}`, user: 'u-rate', payload: `n${i}`, ttlSeconds: 60 })).outcome);
    expect(outcomes).toEqual(['sent', 'sent', 'rate_limited']);
    expect((await d.dispatch({ id: 'r-x', user: 'u-other', payload: 'o', ttlSeconds: 60 })).outcome).toBe('sent');
    expect(service.pushesFor(sub.id).map((p) => p.text)).toEqual(['n0', 'n1']);
  });

  it('leaves the claim to lapse when the push service keeps failing, and pushes after the lease; drops expired subscriptions', async () => {
    let now = Date.now();
    const store = new MemorySubscriptionStore();
    const sub = service.createSubscription();
    await store.add('u-503', toStored(sub));
    await store.add('u-503', { ...toStored(service.createSubscription()), expirationTime: now - 1 });
    service.answerAlways(sub.id, 503);
    const d = new PushDispatcher({ sender: sender(), store, claims: new MemoryPushClaims({ now: () => now }), node: 'a', leaseMs: 1000 });
    const message = { id: 'down-1', user: 'u-503', payload: 'late', ttlSeconds: 60 };
    expect(await d.dispatch(message)).toEqual({ outcome: 'retry', retryInMs: 1000 });
    expect((await store.list('u-503')).length).toBe(1);
    expect(await d.dispatch(message)).toMatchObject({ outcome: 'held' });
    service.answerAlways(sub.id, undefined);
    now += 1001;
    expect(await d.dispatch(message)).toMatchObject({ outcome: 'sent', sent: 1, takeover: true });
    expect(service.pushesFor(sub.id).map((p) => p.text)).toEqual(['late']);
  });

  it('refuses a bad Topic before claiming', async () => {
    const claims = new MemoryPushClaims();
    const d = new PushDispatcher({ sender: sender(), store: new MemorySubscriptionStore(), claims, node: 'a' });
    await expect(d.dispatch({ id: 't', user: 'u', payload: 'p', ttlSeconds: 60, topic: 'has space' })).rejects.toBeInstanceOf(PushError);
    expect((await claims.claim('t', 'b', 1000)).won).toBe(true);
  });
});

describe('on NATS (JetStream KV)', () => {
  let nats: NatsServerHandle;
  const conns: NatsConnection[] = [];
  const children: ChildProcess[] = [];
  const connectNats = async (): Promise<NatsConnection> => {
    const nc = await connect({ servers: nats.url });
    conns.push(nc);
    return nc;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(conns.map((c) => c.close()));
    await nats.stop();
  });

  it('names its buckets after the subject prefix and bounds subscriptions per user (oldest evicted)', async () => {
    const push = await openKvPush({ nc: await connectNats(), prefix: 'acme.prod', maxPerUser: 2 });
    expect(push.names.subscriptionsBucket).toMatch(/^acme_prod_[0-9a-f]{8}_push_subs$/);
    const [a, b, c] = [0, 1, 2].map(() => toStored(service.createSubscription()));
    await push.store.add('u.*>', a!);
    await push.store.add('u.*>', b!);
    expect(await push.store.add('u.*>', c!)).toEqual({ replaced: false, evicted: [a!.id] });
    expect((await push.store.list('u.*>')).map((s) => s.id)).toEqual([b!.id, c!.id]);
    expect(await push.store.remove('u.*>', b!.id)).toBe(true);
    expect(await push.store.remove('u.*>', b!.id)).toBe(false);
  });

  it('keeps the per-user bound with replicas registering at once (compare-and-set)', async () => {
    const stores = await Promise.all([0, 1, 2].map(async () => (await openKvPush({ nc: await connectNats(), prefix: 'cas', maxPerUser: 3 })).store));
    const subs = Array.from({ length: 9 }, () => toStored(service.createSubscription()));
    await Promise.all(subs.map((s, i) => stores[i % 3]!.add('busy', s)));
    const kept = await stores[0]!.list('busy');
    expect(kept.length).toBe(3);
    expect(new Set(kept.map((s) => s.id)).size).toBe(3);
  });

  it('three replicas racing on the same messages send exactly one push per message', async () => {
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map(async (node) => {
      const { store, claims } = await openKvPush({ nc: await connectNats(), prefix: 'race' });
      return { store, d: new PushDispatcher({ sender: sender(), store, claims, node }) };
    }));
    const sub = service.createSubscription();
    await replicas[0]!.store.add('racer', toStored(sub));
    const ids = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    const outcomes = await Promise.all(ids.flatMap((id) => replicas.map((r) => r.d.dispatch({ id, user: 'racer', payload: id, ttlSeconds: 60 }))));
    const texts = service.pushesFor(sub.id).map((p) => p.text);
    expect(texts.length).toBe(ids.length);
    expect(new Set(texts).size).toBe(ids.length);
    expect(outcomes.filter((o) => o.outcome === 'sent').length).toBe(ids.length);
    expect(outcomes.filter((o) => o.outcome === 'sent' || o.outcome === 'held' || o.outcome === 'done').length).toBe(ids.length * 3);
  });

  it('shares the per-user rate limit across replicas (KV token bucket)', async () => {
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map(async (node) => {
      const push = await openKvPush({ nc: await connectNats(), prefix: 'rate', now: () => 1_000_000 });
      return { store: push.store, d: new PushDispatcher({ sender: sender(), store: push.store, claims: push.claims, node, rateLimiter: push.rateLimiter(2) }) };
    }));
    const sub = service.createSubscription();
    await replicas[0]!.store.add('limited', toStored(sub));
    const outcomes = [];
    for (const [i, r] of replicas.entries()) outcomes.push((await r.d.dispatch({ id: `rl-${i}`, user: 'limited', payload: `n${i}`, ttlSeconds: 60 })).outcome);
    expect(outcomes).toEqual(['sent', 'sent', 'rate_limited']);
    expect(service.pushesFor(sub.id).map((p) => p.text)).toEqual(['n0', 'n1']);
  });

  const fixture = fileURLToPath(new URL('./fixtures/claimer.mjs', import.meta.url));
  /** Runs the claimer child until it prints its line, then SIGKILLs it. */
  async function claimThenKill(input: Record<string, unknown>): Promise<string> {
    const child = spawn(process.execPath, [fixture, JSON.stringify({ url: nats.url, ...input })], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`claimer exited ${code}: ${stderr}`)));
    });
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    return line;
  }

  it('a replica SIGKILLed after claiming, before sending: another replica sends once after the lease', async () => {
    const sub = service.createSubscription();
    const leaseMs = 60_000; // long: the `held` check below must run inside it even on a loaded machine
    expect(await claimThenKill({ prefix: 'kill', messageId: 'k-1', leaseMs, mode: 'claim' })).toBe('claimed');
    const nc = await connectNats();
    const now = await openKvPush({ nc, prefix: 'kill' });
    await now.store.add('victim', toStored(sub));
    const d = (claims: KvPushClaims): PushDispatcher => new PushDispatcher({ sender: sender(), store: now.store, claims, node: 'r2', leaseMs });
    const held = await d(now.claims).dispatch({ id: 'k-1', user: 'victim', payload: 'after-kill', ttlSeconds: 60 });
    expect(held.outcome).toBe('held');
    // The same replica after the lease end (its clock moved on, no sleep): it takes over.
    const later = await openKvPush({ nc, prefix: 'kill', now: () => Date.now() + leaseMs + 1 });
    expect(await d(later.claims).dispatch({ id: 'k-1', user: 'victim', payload: 'after-kill', ttlSeconds: 60 })).toMatchObject({ outcome: 'sent', sent: 1, takeover: true });
    expect(await d(later.claims).dispatch({ id: 'k-1', user: 'victim', payload: 'after-kill', ttlSeconds: 60 })).toEqual({ outcome: 'done' });
    expect(service.pushesFor(sub.id).map((p) => p.text)).toEqual(['after-kill']);
  });

  it('a replica SIGKILLed after sending, before marking done: the takeover duplicates the push, under the same Topic', async () => {
    const sub = service.createSubscription();
    const stored = toStored(sub);
    const leaseMs = 60_000; // long: the `held` check below must run inside it even on a loaded machine
    const line = await claimThenKill({ prefix: 'kill2', messageId: 'k-2', leaseMs, mode: 'send', vapid, subscription: stored, payload: 'dup' });
    expect(line).toBe('sent sent');
    const later = await openKvPush({ nc: await connectNats(), prefix: 'kill2', now: () => Date.now() + leaseMs + 1 });
    await later.store.add('victim2', stored);
    const d = new PushDispatcher({ sender: sender(), store: later.store, claims: later.claims, node: 'r2', leaseMs });
    expect(await d.dispatch({ id: 'k-2', user: 'victim2', payload: 'dup', ttlSeconds: 60 })).toMatchObject({ outcome: 'sent', takeover: true });
    const pushes = service.pushesFor(sub.id);
    // The documented at-least-once window: 1 duplicate, collapsible by Topic and by message id in the service worker.
    expect(pushes.length).toBe(2);
    expect(pushes[0]?.topic).toBe(pushes[1]?.topic);
  });
});

describe('on a 3-node NATS cluster (R3 buckets)', () => {
  it('three replicas, each on its own server, send exactly one push per message', async () => {
    const cluster = await startNatsCluster(3);
    const conns: NatsConnection[] = [];
    try {
      const replicas: { store: SubscriptionStore; d: PushDispatcher }[] = [];
      for (const [i, server] of cluster.servers.entries()) {
        const nc = await connect({ servers: server.url });
        conns.push(nc);
        // A fresh cluster elects its meta leader first: retry the bucket creation briefly.
        const push = await waitFor(() => openKvPush({ nc, prefix: 'r3', replicas: 3 }).catch(() => undefined), 20_000, 'R3 buckets');
        replicas.push({ store: push.store, d: new PushDispatcher({ sender: sender(), store: push.store, claims: push.claims, node: `n${i}` }) });
      }
      const sub = service.createSubscription();
      await replicas[0]!.store.add('r3-user', toStored(sub));
      const ids = Array.from({ length: 10 }, (_, i) => `r3-${i}`);
      await Promise.all(ids.flatMap((id) => replicas.map((r) => r.d.dispatch({ id, user: 'r3-user', payload: id, ttlSeconds: 60 }))));
      const texts = service.pushesFor(sub.id).map((p) => p.text).sort();
      expect(texts).toEqual([...ids].sort());
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await cluster.stop();
    }
  });
});
