// Fault test of the Web Push fallback timer on a 3-server NATS cluster (R3 inbox stream, push
// buckets and timer consumer): two publish API replicas, each on its own server; the server
// leading the timer's consumer is SIGKILLed when the first push lands, and restarted once every
// message has been pushed. Every message must be pushed; a second push of one message may only
// come from a claim taken over after its lease (logged `takeover: true` by either replica).
// Heavy: run under `flock /tmp/herald-heavy.lock`. Tests assume `turbo build` ran first.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { generateVapidKeys } from '@herald/push';
import { startNatsCluster, startPushService, waitFor, type NatsClusterHandle, type PushServiceHandle } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Api } from './helpers.js';

const JWT_SECRET = 'push-cluster-test-secret-3a9f7c1e';
const vapid = generateVapidKeys();
const USERS = 5;
const PER_USER = 8;

interface ConsumerInfo { num_pending?: number; num_ack_pending?: number; cluster?: { leader?: string } }

async function consumerInfo(nc: NatsConnection): Promise<ConsumerInfo> {
  const r = await nc.request('$JS.API.CONSUMER.INFO.herald_inbox.herald_inbox_push', '', { timeout: 3000 });
  return JSON.parse(r.string()) as ConsumerInfo;
}

describe('push timer on a 3-server cluster: the consumer leader SIGKILLed while pushes are due', () => {
  let cluster: NatsClusterHandle;
  let push: PushServiceHandle;
  let nc: NatsConnection;
  const apis: Api[] = [];
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    push = await startPushService();
    nc = await connect({ servers: cluster.urls });
  }, 60_000);
  afterAll(async () => {
    for (const a of apis) await a.proc.kill();
    await nc?.close();
    await push?.close();
    await cluster?.stop();
  });

  it('pushes every message; a duplicate only through a takeover', async () => {
    const servers = cluster.servers;
    const env = {
      HERALD_NATS_REPLICAS: '3', HERALD_JWT_SECRET: JWT_SECRET, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey,
      HERALD_VAPID_SUBJECT: 'mailto:ops@example.com', HERALD_PUSH_AFTER_MS: '3000', HERALD_PUSH_ALLOW_ORIGINS: push.origin,
      HERALD_PUSH_ACK_WAIT_MS: '3000', HERALD_PUSH_LEASE_MS: '4000', HERALD_PUSH_RATE_PER_MIN: '0', HERALD_NATS_TIMEOUT_MS: '3000',
    };
    // Each replica prefers its own server (the list's first), and fails over to the others.
    const order = (i: number): string => [...servers.slice(i), ...servers.slice(0, i)].map((s) => s.url).join(',');
    const a = await startApi({ ...env, HERALD_NATS_URL: order(0), HERALD_NODE_ID: 'push-a' });
    apis.push(a);
    await a.proc.waitLog((r) => r['msg'] === 'push timer consuming', 30_000);
    const b = await startApi({ ...env, HERALD_NATS_URL: order(1), HERALD_NODE_ID: 'push-b' });
    apis.push(b);
    await b.proc.waitLog((r) => r['msg'] === 'push timer consuming', 30_000);

    for (let u = 0; u < USERS; u++) {
      const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
      const token = await signToken({ secret: JWT_SECRET, sub: `c-${u}`, ttlSec: 120 });
      expect((await a.post('/v1/push-subscriptions', { endpoint: sub.endpoint, keys: sub.keys }, { authorization: `Bearer ${token}` })).status).toBe(201);
    }
    const ids: string[] = [];
    for (let i = 0; i < PER_USER; i++) {
      for (let u = 0; u < USERS; u++) {
        const r = await (i % 2 === 0 ? a : b).post('/v1/publish', { user: `c-${u}`, inbox: true, data: { i } });
        expect(r.status).toBe(200);
        ids.push((r.body as { results: { id: string }[] }).results[0]?.id ?? '');
      }
    }
    const leaderName = (await consumerInfo(nc)).cluster?.leader;
    const leader = servers.find((s) => s.name === leaderName);
    expect(leader).toBeDefined();
    await waitFor(() => push.received.length > 0, 20_000, 'the first push');
    await leader?.kill();

    const idOf = (text: string): string => (JSON.parse(text) as { id: string }).id;
    await waitFor(() => new Set(push.received.map((p) => idOf(p.text))).size >= ids.length, 90_000, 'a push for every message');
    await leader?.restart();
    await waitFor(async () => {
      const info = await consumerInfo(nc).catch(() => undefined);
      return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0;
    }, 60_000, 'the consumer idle', 250);

    const counts = new Map<string, number>();
    for (const p of push.received) counts.set(idOf(p.text), (counts.get(idOf(p.text)) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const logs = [...a.proc.logs(), ...b.proc.logs()];
    const takeovers = new Set(logs.filter((r) => r['msg'] === 'push sent' && r['takeover'] === true).map((r) => r['msg_id']));
    console.log(JSON.stringify({
      killed: leaderName, messages: ids.length, pushes: push.received.length, duplicated: duplicated.length, takeovers: takeovers.size,
      failedChecks: logs.filter((r) => r['msg'] === 'push timer: check failed, retried').length,
    }));
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    for (const id of duplicated) expect(takeovers.has(id)).toBe(true);
  }, 240_000);
});
