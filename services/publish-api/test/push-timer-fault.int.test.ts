// Fault test of the Web Push fallback timer (docs/push.md#the-fallback-timer): two publish API
// replicas share the durable consumer on one nats-server; one is SIGKILLed while pushes are due.
// Every message must get its push, and a second push of one message may only come from a
// takeover after the killed replica's lease (the documented at-least-once gap). Heavy: run under
// `flock /tmp/herald-heavy.lock`. Tests assume `turbo build` ran first.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { generateVapidKeys } from '@herald/push';
import { startNatsServer, startPushService, waitFor, type NatsServerHandle, type PushServiceHandle, type TestPushSubscription } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Api } from './helpers.js';

const JWT_SECRET = 'push-fault-test-secret-5b2d8e1f';
const vapid = generateVapidKeys();
const USERS = 5;
const PER_USER = 8;
const AFTER_MS = 2000;

describe('push timer: a replica SIGKILLed while pushes are due', () => {
  let nats: NatsServerHandle;
  let push: PushServiceHandle;
  let nc: NatsConnection;
  const apis: Api[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    push = await startPushService();
    nc = await connect({ servers: nats.url });
  }, 30_000);
  afterAll(async () => {
    for (const a of apis) await a.proc.kill();
    await nc?.close();
    await push?.close();
    await nats?.stop();
  });

  async function scenario(userPrefix: string, killWhen: 'first_push' | 'before_due'): Promise<{ duplicated: number; takeovers: number }> {
    const env = {
      HERALD_NATS_URL: nats.url, HERALD_JWT_SECRET: JWT_SECRET, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey,
      HERALD_VAPID_SUBJECT: 'mailto:ops@example.com', HERALD_PUSH_AFTER_MS: String(AFTER_MS), HERALD_PUSH_ALLOW_ORIGINS: push.origin,
      HERALD_PUSH_ACK_WAIT_MS: '3000', HERALD_PUSH_LEASE_MS: '4000', HERALD_PUSH_RATE_PER_MIN: '0',
    };
    for (const x of apis.splice(0)) await x.proc.kill();
    const a = await startApi({ ...env, HERALD_NODE_ID: 'push-a' });
    apis.push(a);
    await a.proc.waitLog((r) => r['msg'] === 'push timer consuming', 20_000);
    const b = await startApi({ ...env, HERALD_NODE_ID: 'push-b' });
    apis.push(b);
    await b.proc.waitLog((r) => r['msg'] === 'push timer consuming', 20_000);

    const subs = new Map<string, TestPushSubscription>();
    for (let u = 0; u < USERS; u++) {
      const user = `${userPrefix}-${u}`;
      const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
      const token = await signToken({ secret: JWT_SECRET, sub: user, ttlSec: 60 });
      expect((await a.post('/v1/push-subscriptions', { endpoint: sub.endpoint, keys: sub.keys }, { authorization: `Bearer ${token}` })).status).toBe(201);
      subs.set(user, sub);
    }
    const ids: string[] = [];
    for (let i = 0; i < PER_USER; i++) {
      for (let u = 0; u < USERS; u++) {
        const r = await (i % 2 === 0 ? a : b).post('/v1/publish', { user: `${userPrefix}-${u}`, inbox: true, data: { i } });
        expect(r.status).toBe(200);
        ids.push((r.body as { results: { id: string }[] }).results[0]?.id ?? '');
      }
    }
    const before = push.received.length;
    if (killWhen === 'first_push') {
      // SIGKILL replica a as soon as the first pushes arrive: it may hold claims, or have sent a push and not yet written `done`.
      await waitFor(() => push.received.length > before, 15_000, 'the first push');
    } else {
      // Every message is waiting for its due time (naked with a delay, held by the server, not by a replica).
      expect(push.received.length).toBe(before);
    }
    await a.proc.kill();
    const killedAt = push.received.length - before;
    const received = (): typeof push.received => push.received.slice(before);

    const idOf = (text: string): string => (JSON.parse(text) as { id: string }).id;
    await waitFor(() => new Set(received().map((p) => idOf(p.text))).size >= ids.length, 30_000, 'a push for every message');
    await waitFor(async () => ((await consumerIdle(nc)) ? true : undefined), 20_000, 'the consumer idle');

    const counts = new Map<string, number>();
    for (const p of received()) counts.set(idOf(p.text), (counts.get(idOf(p.text)) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const takeovers = new Set(b.proc.logs().filter((r) => r['msg'] === 'push sent' && r['takeover'] === true).map((r) => r['msg_id']));
    // Measured, for the report.
    console.log(JSON.stringify({
      kill: killWhen, messages: ids.length, pushes: received().length, pushesBeforeKill: killedAt, duplicated: duplicated.length, takeovers: takeovers.size,
      sentByB: b.proc.logs().filter((r) => r['msg'] === 'push sent').length,
    }));
    expect([...counts.keys()].sort()).toEqual([...ids].sort());
    for (const id of duplicated) expect(takeovers.has(id)).toBe(true);
    for (const [u, sub] of subs) expect(push.pushesFor(sub.id).length, u).toBeGreaterThanOrEqual(PER_USER);
    return { duplicated: duplicated.length, takeovers: takeovers.size };
  }

  it('killed when the first pushes arrive: every message pushed, a duplicate only through a takeover', async () => {
    await scenario('fault', 'first_push');
  }, 120_000);

  it('killed while every push is still waiting for its due time: exactly one push per message', async () => {
    const r = await scenario('early', 'before_due');
    expect(r.duplicated).toBe(0);
  }, 120_000);
});

async function consumerIdle(nc: NatsConnection): Promise<boolean> {
  const r = await nc.request('$JS.API.CONSUMER.INFO.herald_inbox.herald_inbox_push', '', { timeout: 2000 });
  const info = JSON.parse(r.string()) as { num_pending?: number; num_ack_pending?: number };
  return info.num_pending === 0 && info.num_ack_pending === 0;
}
