// The Web Push fallback timer with real processes (docs/push.md#the-fallback-timer): the publish API
// on a real nats-server (and `herald dev`), the stand-in RFC 8030 push service of @herald/testkit
// (VAPID checked, aes128gcm decrypted). Tests assume `turbo build` ran first.
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { NatsInboxStore } from '@herald/inbox';
import { generateVapidKeys, openKvPush, topicForMessage } from '@herald/push';
import { connectWs, spawnService, startNatsServer, startPushService, waitFor, type NatsServerHandle, type PushServiceHandle, type TestPushSubscription } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, apiClient, startApi, type Api } from './helpers.js';

const HERALD_CLI = fileURLToPath(new URL('../../herald/dist/cli.js', import.meta.url));
const JWT_SECRET = 'push-timer-test-secret-9c1e7f3a';
const vapid = generateVapidKeys();
const AFTER_MS = 1500;

interface PushBody { type: string; user: string; id: string; seq: number; data?: unknown }

let push: PushServiceHandle;
const env = (): Record<string, string> => ({
  HERALD_JWT_SECRET: JWT_SECRET, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey, HERALD_VAPID_SUBJECT: 'mailto:ops@example.com',
  HERALD_PUSH_AFTER_MS: String(AFTER_MS), HERALD_PUSH_ALLOW_ORIGINS: push.origin, HERALD_PUSH_TTL_S: '600',
});

async function subscribe(api: Api, user: string): Promise<TestPushSubscription> {
  const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
  const token = await signToken({ secret: JWT_SECRET, sub: user, ttlSec: 60 });
  const r = await api.post('/v1/push-subscriptions', { endpoint: sub.endpoint, keys: sub.keys }, { authorization: `Bearer ${token}` });
  expect(r.status).toBe(201);
  return sub;
}

async function publishInbox(api: Api, user: string, data: unknown, id?: string): Promise<{ seq: number; id: string; at: number }> {
  const at = Date.now();
  const r = await api.post('/v1/publish', { user, inbox: true, data, ...(id ? { id } : {}) });
  expect(r.status).toBe(200);
  const result = (r.body as { results: { seq: number; id: string }[] }).results[0] as { seq: number; id: string };
  return { ...result, at };
}

const bodies = (sub: TestPushSubscription): PushBody[] => push.pushesFor(sub.id).map((p) => JSON.parse(p.text) as PushBody);

beforeAll(async () => {
  push = await startPushService();
});
afterAll(async () => {
  await push?.close();
});

describe('push timer on NATS', () => {
  let nats: NatsServerHandle;
  let api: Api;
  let nc: NatsConnection;
  let inbox: NatsInboxStore;
  beforeAll(async () => {
    nats = await startNatsServer();
    api = await startApi({ HERALD_NATS_URL: nats.url, ...env() });
    await api.proc.waitLog((r) => r['msg'] === 'push timer consuming', 20_000);
    nc = await connect({ servers: nats.url });
    inbox = await NatsInboxStore.open({ nc });
  }, 60_000);
  afterAll(async () => {
    await api?.proc.kill();
    await inbox?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('pushes an undelivered inbox message once, after HERALD_PUSH_AFTER_MS, with TTL, Urgency and Topic', async () => {
    const sub = await subscribe(api, 'alice');
    const m = await publishInbox(api, 'alice', { title: 'hello' });
    const [got] = await waitFor(() => (push.pushesFor(sub.id).length > 0 ? push.pushesFor(sub.id) : undefined), 15_000, "a push");
    const arrived = Date.now();
    expect(arrived - m.at).toBeGreaterThanOrEqual(AFTER_MS - 50);
    expect(JSON.parse(got?.text ?? '') as PushBody).toEqual({ type: 'inbox', user: 'alice', id: m.id, seq: m.seq, data: { title: 'hello' } });
    expect(got?.ttl).toBe(600);
    expect(got?.urgency).toBe('normal');
    expect(got?.topic).toBe(topicForMessage(`alice\u0000${m.id}`));
    // Settled: the consumer holds nothing more, and still one push.
    await waitFor(async () => ((await consumerIdle(nc)) ? true : undefined), 10_000, "the consumer idle");
    expect(push.pushesFor(sub.id)).toHaveLength(1);
  });

  it('sends nothing for a message delivered before it is due', async () => {
    const sub = await subscribe(api, 'bob');
    const m = await publishInbox(api, 'bob', 'seen in time');
    await inbox.markDelivered('bob', m.seq);
    await api.proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === m.id, 15_000).then((r) => expect(r['result']).toBe('delivered'));
    // A later undelivered one still gets its push: the timer is alive, and the first got none.
    const later = await publishInbox(api, 'bob', 'not seen');
    await api.proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === later.id, 15_000).then((r) => expect(r['result']).toBe('sent'));
    expect(bodies(sub).map((b) => b.id)).toEqual([later.id]);
  });

  it('removes a subscription the push service answers 410 for', async () => {
    const gone = await subscribe(api, 'carol');
    const live = await subscribe(api, 'carol');
    push.answerAlways(gone.id, 410);
    const m = await publishInbox(api, 'carol', 'x');
    await api.proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === m.id, 15_000);
    expect(bodies(live).map((b) => b.id)).toEqual([m.id]);
    expect(push.requests.filter((r) => r.subscriptionId === gone.id).map((r) => r.status)).toEqual([410]);
    const { store } = await openKvPush({ nc });
    expect((await store.list('carol')).map((s) => s.endpoint)).toEqual([live.endpoint]);
  });

  it('skips a user without subscriptions and a retracted message', async () => {
    const none = await publishInbox(api, 'dave', 'nobody listens');
    await api.proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === none.id, 15_000).then((r) => expect(r['result']).toBe('no_subscriptions'));
    const sub = await subscribe(api, 'erin');
    const m = await publishInbox(api, 'erin', 'oops', 'retract-me');
    expect(await inbox.retract('erin', 'retract-me')).toBe(true);
    // A retracted message is deleted from the stream: the consumer never hands it out (or, already
    // handed out, finds it gone). The next message's push shows the timer went past it.
    const next = await publishInbox(api, 'erin', 'kept');
    await api.proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === next.id, 15_000).then((r) => expect(r['result']).toBe('sent'));
    expect(bodies(sub).map((b) => b.id)).toEqual([next.id]);
    expect(m.id).toBe('retract-me');
  });
});

describe('push timer on NATS with HERALD_PUSH_AFTER_MS=0', () => {
  let nats: NatsServerHandle;
  let api: Api;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    // The gateways' presence state (@herald/events): one connection of 'zoe' on node n1.
    // A KV bucket is a stream KV_<bucket> on $KV.<bucket>.>; made with the raw JetStream API.
    const made = JSON.parse((await nc.request('$JS.API.STREAM.CREATE.KV_herald_presence', JSON.stringify({
      name: 'KV_herald_presence', subjects: ['$KV.herald_presence.>'], max_msgs_per_subject: 1, allow_direct: true, allow_rollup_hdrs: true, deny_delete: true, storage: 'file', num_replicas: 1,
    }), { timeout: 5000 })).string()) as { error?: unknown };
    expect(made.error).toBeUndefined();
    await nc.request(`$KV.herald_presence.u.${Buffer.from('zoe').toString('base64url')}`, JSON.stringify({ nodes: { n1: 1 }, on: true }), { timeout: 5000 });
    api = await startApi({ HERALD_NATS_URL: nats.url, ...env(), HERALD_PUSH_AFTER_MS: '0' });
    await api.proc.waitLog((r) => r['msg'] === 'push timer consuming', 20_000);
  }, 60_000);
  afterAll(async () => {
    await api?.proc.kill();
    await nc?.close();
    await nats?.stop();
  });

  it('pushes at once for a user with no live connection, waits for a connected one', async () => {
    const sub = await subscribe(api, 'yann');
    const m = await publishInbox(api, 'yann', 'now');
    await waitFor(() => push.pushesFor(sub.id).length > 0, 5000, 'the push');
    expect(Date.now() - m.at).toBeLessThan(AFTER_MS);
    expect(bodies(sub).map((b) => b.id)).toEqual([m.id]);
    const zoe = await subscribe(api, 'zoe');
    const z = await publishInbox(api, 'zoe', 'the gateway hands it over');
    const wait = await api.proc.waitLog((r) => r['msg'] === 'push timer wait' && r['msg_id'] === z.id && r['why'] === 'online', 5000);
    expect(wait['wait_ms']).toBeGreaterThan(9000);
    expect(push.pushesFor(zoe.id)).toHaveLength(0);
  });
});

/** The push timer's consumer has nothing pending or unacknowledged. */
async function consumerIdle(nc: NatsConnection): Promise<boolean> {
  const r = await nc.request('$JS.API.CONSUMER.INFO.herald_inbox.herald_inbox_push', '', { timeout: 2000 });
  const info = JSON.parse(r.string()) as { num_pending?: number; num_ack_pending?: number };
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

describe('push timer in herald dev (memory, not durable)', () => {
  it('pushes an undelivered inbox message after the delay, none for one the connected client acknowledged', async () => {
    const proc = await spawnService({ args: [HERALD_CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: API_KEY, HERALD_LOG_LEVEL: 'debug', ...env() } });
    try {
      const api = apiClient(proc);
      const sub = await subscribe(api, 'frank');
      const m = await publishInbox(api, 'frank', 'dev');
      await proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === m.id, 15_000).then((r) => expect(r['result']).toBe('sent'));
      expect(Date.now() - m.at).toBeGreaterThanOrEqual(AFTER_MS - 50);
      expect(bodies(sub).map((b) => b.id)).toEqual([m.id]);
      // The same user connected: the gateway hands the next message over, the client acknowledges
      // it `delivered` before it is due, and no push follows.
      const ws = await connectWs(`ws://127.0.0.1:${proc.port}/v1/ws`, { token: await signToken({ secret: JWT_SECRET, sub: 'frank', ttlSec: 60 }) });
      try {
        const n = await publishInbox(api, 'frank', 'while connected');
        const frame = await ws.waitFrame((f) => (f.op as string) === 'inbox' && (f as unknown as { id: string }).id === n.id, 5000);
        ws.send({ op: 'receipt', id: 'r1', status: 'delivered', upTo: (frame as unknown as { seq: number }).seq });
        await proc.waitLog((r) => r['msg'] === 'push timer done' && r['msg_id'] === n.id, 15_000).then((r) => expect(r['result']).toBe('delivered'));
        expect(bodies(sub).map((b) => b.id)).toEqual([m.id]);
      } finally {
        ws.close();
      }
    } finally {
      await proc.kill();
    }
  });
});
