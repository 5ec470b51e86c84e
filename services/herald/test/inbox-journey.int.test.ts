// The inbox journey as a product team would try it (issue: messages that wait for the user), on
// the production layout: two gateways and a publish API on a nats-server, lifecycle events to a
// signed webhook, Web Push through the stand-in RFC 8030 service of @herald/testkit (VAPID
// checked, payload decrypted). A backend sends an inbox message to a user who is offline with a
// registered push subscription; one push arrives after HERALD_PUSH_AFTER_MS; the user comes back
// after the history window on two devices (two gateways), gets the message once, reads it on one;
// the backend's webhook receives message.delivered and message.read once each (by webhook-id),
// and the other device's copy is marked read.
import { resolve } from 'node:path';
import { signToken } from '@herald/auth';
import { parseEvent, type AnyEvent } from '@herald/events';
import { generateVapidKeys } from '@herald/push';
import { connectWs, spawnService, startNatsServer, startPushService, startWebhookReceiver, waitFor, type NatsServerHandle, type PushServiceHandle, type ServiceProcess, type WebhookReceiver, type WsTestClient } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const SECRET = 'inbox-journey-secret-4b7d0e2a9c';
const API_KEY = 'inbox-journey-api-key-8f1c3e5a7d';
const WEBHOOK_SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
const AFTER_MS = 1000;
/** A history window the user stays away longer than (stands in for "a day later"). */
const HISTORY = { HERALD_HISTORY_SIZE: '2', HERALD_HISTORY_TTL_MS: '1000' };
const vapid = generateVapidKeys();

interface InboxFrame { op: 'inbox'; seq: number; id: string; data: unknown }
interface Hook { id: string; event: AnyEvent }

let nats: NatsServerHandle;
let push: PushServiceHandle;
let hooks: WebhookReceiver;
/** Webhook deliveries: the event and its webhook-id header. */
const received = (): Hook[] =>
  hooks.received.flatMap((r) => {
    const event = parseEvent(r.body);
    return event ? [{ id: r.id, event }] : [];
  });
const procs: ServiceProcess[] = [];
let api = '';
const gateways: string[] = [];
const clients: WsTestClient[] = [];

const token = (sub: string): Promise<string> => signToken({ secret: SECRET, sub, ttlSec: 600 });

async function call(method: string, path: string, body?: unknown, auth = `Bearer ${API_KEY}`): Promise<{ status: number; body: unknown }> {
  const res = await fetch(api + path, {
    method,
    headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

beforeAll(async () => {
  hooks = await startWebhookReceiver();
  const hookUrl = hooks.url;
  [nats, push] = await Promise.all([startNatsServer(), startPushService()]);
  const common = { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info', HERALD_NATS_URL: nats.url, HERALD_JWT_SECRET: SECRET, ...HISTORY };
  const gatewayEnv = { ...common, HERALD_INBOX: 'true', HERALD_EVENTS: 'true', HERALD_WEBHOOK_URLS: `${hookUrl}#message.*`, HERALD_WEBHOOK_SECRET: WEBHOOK_SECRET };
  const started = await Promise.all([
    spawnService({ args: [CLI, 'gateway'], env: { ...gatewayEnv, HERALD_NODE_ID: 'gw-1' }, timeoutMs: 40_000 }),
    spawnService({ args: [CLI, 'gateway'], env: { ...gatewayEnv, HERALD_NODE_ID: 'gw-2' }, timeoutMs: 40_000 }),
    spawnService({
      args: [CLI, 'publish-api'],
      env: {
        ...common, HERALD_NODE_ID: 'api', HERALD_API_KEYS: API_KEY, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey,
        HERALD_VAPID_SUBJECT: 'mailto:ops@example.com', HERALD_PUSH_AFTER_MS: String(AFTER_MS), HERALD_PUSH_ALLOW_ORIGINS: push.origin,
      },
      timeoutMs: 40_000,
    }),
  ]);
  procs.push(...started);
  gateways.push(...started.slice(0, 2).map((g) => `ws://127.0.0.1:${g.port}/v1/ws`));
  api = `http://127.0.0.1:${started[2]!.port}`;
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.terminate();
  await Promise.all(procs.map((p) => p.kill()));
  await nats?.stop();
  await push?.close();
  await hooks?.close();
});

describe('an inbox message to an offline user, on NATS', () => {
  it('is pushed once after the delay, waits past the history window, is read on one device; the backend hears delivered and read once each', async () => {
    const user = 'journey-user';
    // The user's browser registered for Web Push earlier (what registerPush does), then went away.
    const subscription = push.createSubscription({ applicationServerKey: vapid.publicKey });
    const reg = await call('POST', '/v1/push-subscriptions', { endpoint: subscription.endpoint, keys: subscription.keys }, `Bearer ${await token(user)}`);
    expect(reg.status).toBe(201);

    // The backend sends.
    const sentAt = Date.now();
    const pub = await call('POST', '/v1/publish', { user, inbox: true, data: { text: 'Your order shipped' } });
    expect(pub.status).toBe(200);
    const [msg] = (pub.body as { results: { ch: string; seq: number; id: string }[] }).results;
    expect(msg?.ch).toBe(`inbox:${user}`);

    // One push, after the delay, decrypted by the push service with the subscription's key.
    await waitFor(() => push.pushesFor(subscription.id).length > 0 || undefined, 20_000, 'the push');
    const pushedAfter = Date.now() - sentAt;
    expect(pushedAfter).toBeGreaterThanOrEqual(AFTER_MS - 50);
    const pushed = push.pushesFor(subscription.id).map((p) => JSON.parse(p.text) as { type: string; user: string; id: string; seq: number; data?: unknown });
    expect(pushed).toEqual([expect.objectContaining({ type: 'inbox', user, id: msg!.id, seq: msg!.seq, data: { text: 'Your order shipped' } })]);

    // Later, past the history window (an ordinary message would be gone from history by now).
    await new Promise((r) => setTimeout(r, Number(HISTORY.HERALD_HISTORY_TTL_MS) + 200));
    const phone = await connectWs(gateways[0]!, { token: await token(user) });
    const laptop = await connectWs(gateways[1]!, { token: await token(user) });
    clients.push(phone, laptop);
    const inboxOf = (c: WsTestClient): InboxFrame[] => c.frames.filter((f) => (f.op as string) === 'inbox') as unknown as InboxFrame[];
    for (const device of [phone, laptop]) {
      await device.waitFrame((f) => (f.op as string) === 'inbox', 10_000);
      expect(inboxOf(device).map((m) => [m.seq, m.id, m.data])).toEqual([[msg!.seq, msg!.id, { text: 'Your order shipped' }]]);
    }

    // The phone's app got it and the person read it there.
    const receipt = async (id: string, status: string): Promise<void> => {
      const from = phone.frames.length;
      phone.send({ op: 'receipt', id, status, upTo: msg!.seq });
      const answer = await phone.waitFrame((f) => (f.op === 'ack' || f.op === 'err') && (f as { id?: unknown }).id === id, 10_000, from);
      expect(answer.op).toBe('ack');
    };
    await receipt('d1', 'delivered');
    await receipt('r1', 'read');
    // The laptop's copy is marked read.
    await laptop.waitFrame((f) => (f.op as string) === 'read' && (f as unknown as { upTo: number }).upTo === msg!.seq, 10_000);

    // The backend's state and webhook: one message.delivered and one message.read, signed.
    const listing = (await call('GET', `/v1/users/${user}/inbox`)).body as { delivered: number; read: number };
    expect(listing).toMatchObject({ delivered: msg!.seq, read: msg!.seq });
    const mine = (): Hook[] => received().filter((h) => h.event.type.startsWith('message.'));
    await waitFor(() => new Set(mine().map((h) => h.event.type)).size === 2 || undefined, 20_000, 'both webhooks');
    const byId = new Map(mine().map((h) => [h.id, h.event]));
    expect([...byId.values()].map((e) => e.type).sort()).toEqual(['message.delivered', 'message.read']);
    // No second push for a message the user has now: the timer already acted on it.
    expect(push.pushesFor(subscription.id)).toHaveLength(1);
    console.log(`[journey] push ${pushedAfter} ms after the publish (delay ${AFTER_MS} ms); ${mine().length} message webhooks (${mine().length - byId.size} duplicates by webhook-id)`);
  }, 60_000);
});
