// Fault test of the Web Push fallback timer on a 3-server NATS cluster (R3 inbox stream, push
// buckets and timer consumer): two publish API replicas, each on its own server; the server
// leading the timer's consumer is SIGKILLed when the first push lands, and restarted once every
// message has been pushed. Every message must be pushed; a second push of one message may only
// come from a claim taken over after its lease (logged `takeover: true` by either replica).
//
// Second test, on the same cluster (docs/inbox.md#fault-tests): a publish API replica SIGKILLed
// while a backend publishes inbox messages through two replicas with @herald/server, whose retries
// (same message id) go to the other replica; nothing acknowledged may be lost or stored twice, and
// the user, connecting afterwards to a gateway with HERALD_INBOX=true, gets every message once, in
// order. Figures are printed with an [inbox-api-fault] prefix.
// Heavy: run under `flock /tmp/herald-heavy.lock`. Tests assume `turbo build` ran first.
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { generateVapidKeys } from '@herald/push';
import { HeraldServer, type ChannelResult, type PublishMessage, type RetryInfo } from '@herald/server';
import { connectWs, spawnService, startNatsCluster, startPushService, waitFor, type NatsClusterHandle, type PushServiceHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, startApi, type Api } from './helpers.js';

const GATEWAY_JS = fileURLToPath(new URL('../../gateway/dist/main.js', import.meta.url));

const JWT_SECRET = 'push-cluster-test-secret-3a9f7c1e';
const vapid = generateVapidKeys();
const USERS = 5;
const PER_USER = 8;
/** The inbox test: messages to each of these users; replica a is SIGKILLed once KILL_AT are acknowledged. */
const INBOX_USERS = 6;
const INBOX_PER_USER = 30;
const KILL_AT = 80;
/** A tiny history window, as in the gateway's inbox tests: the inbox must not depend on it. */
const HISTORY = { HERALD_HISTORY_SIZE: '2', HERALD_HISTORY_TTL_MS: '1000' };

interface ConsumerInfo { num_pending?: number; num_ack_pending?: number; cluster?: { leader?: string } }

async function consumerInfo(nc: NatsConnection): Promise<ConsumerInfo> {
  const r = await nc.request('$JS.API.CONSUMER.INFO.herald_inbox.herald_inbox_push', '', { timeout: 3000 });
  return JSON.parse(r.string()) as ConsumerInfo;
}

/**
 * A TCP proxy in front of one nats-server whose server → client direction can be held: from
 * `hold()` on, what the server sends is dropped (the client's publishes still go through).
 */
async function holdableProxy(port: number): Promise<{ url: string; hold(): void; close(): Promise<void> }> {
  const open = new Set<Socket>();
  let held = false;
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', cut);
      s.on('close', () => {
        open.delete(s);
        cut();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!held) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `nats://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  return {
    url,
    hold: () => void (held = true),
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('publish API replicas on a 3-server cluster (R3)', () => {
  let cluster: NatsClusterHandle;
  let push: PushServiceHandle;
  let nc: NatsConnection;
  const apis: Api[] = [];
  let gateway: ServiceProcess | undefined;
  let proxy: Awaited<ReturnType<typeof holdableProxy>> | undefined;
  /** HERALD_NATS_URL for process i: its own server first, then the others to fail over to. */
  const order = (i: number): string => [...cluster.servers.slice(i), ...cluster.servers.slice(0, i)].map((s) => s.url).join(',');
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    push = await startPushService();
    nc = await connect({ servers: cluster.urls });
  }, 60_000);
  afterAll(async () => {
    for (const a of apis) await a.proc.kill();
    await gateway?.kill();
    await proxy?.close();
    await nc?.close();
    await push?.close();
    await cluster?.stop();
  });

  it('push timer: the consumer leader SIGKILLed while pushes are due; every message pushed, a duplicate only through a takeover', async () => {
    const servers = cluster.servers;
    const env = {
      HERALD_NATS_REPLICAS: '3', HERALD_JWT_SECRET: JWT_SECRET, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey,
      HERALD_VAPID_SUBJECT: 'mailto:ops@example.com', HERALD_PUSH_AFTER_MS: '3000', HERALD_PUSH_ALLOW_ORIGINS: push.origin,
      HERALD_PUSH_ACK_WAIT_MS: '3000', HERALD_PUSH_LEASE_MS: '4000', HERALD_PUSH_RATE_PER_MIN: '0', HERALD_NATS_TIMEOUT_MS: '3000',
    };
    // Each replica prefers its own server (the list's first), and fails over to the others.
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

  it('inbox: a replica SIGKILLed while a backend publishes; retries with the same ids on the other replica store each message once, and the user gets every message once, in order', async () => {
    for (const x of apis.splice(0)) await x.proc.kill(); // the push timer's replicas, if the test above ran
    const env = { HERALD_NATS_REPLICAS: '3', HERALD_JWT_SECRET: JWT_SECRET, HERALD_NATS_TIMEOUT_MS: '3000', HERALD_LOG_LEVEL: 'info', ...HISTORY };
    let g: ServiceProcess;
    // Replica a reaches NATS through a proxy that can hold what the server sends it (the kill's timing, below).
    proxy = await holdableProxy(cluster.servers[0]?.port ?? 0);
    const held = proxy;
    const [a, b] = await Promise.all([
      startApi({ ...env, HERALD_NATS_URL: held.url, HERALD_NODE_ID: 'inbox-a' }),
      startApi({ ...env, HERALD_NATS_URL: order(1), HERALD_NODE_ID: 'inbox-b' }),
      spawnService({
        args: [GATEWAY_JS],
        env: { ...env, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_NATS_URL: order(2), HERALD_INBOX: 'true' },
        timeoutMs: 40_000,
      }).then((p) => (g = gateway = p)),
    ]);
    apis.push(a, b);

    // The backend's load balancer: round robin over the replicas it has not seen fail; a replica whose
    // connection failed is taken out. Every attempt is recorded (replica, message id, outcome).
    const replicas: Api[] = [a, b];
    const down = new Set<Api>();
    const inFlight = new Map<Api, Set<string>>(replicas.map((r) => [r, new Set<string>()]));
    const attempts: { replica: string; id: string; outcome: string }[] = [];
    let turn = 0;
    let holding = false;
    const sentToAWhileHeld = new Set<string>();
    const balancer: typeof fetch = async (input, init) => {
      const live = replicas.filter((r) => !down.has(r));
      const r = live[turn++ % live.length] ?? b;
      const url = new URL(input instanceof Request ? input.url : input);
      const id = (JSON.parse(String(init?.body)) as { id: string }).id;
      const pending = inFlight.get(r) as Set<string>;
      pending.add(id);
      if (holding && r === a) sentToAWhileHeld.add(id);
      try {
        const res = await fetch(new URL(url.pathname + url.search, r.base), init);
        const why = res.status === 200 ? '' : ` ${((await res.clone().json()) as { error?: { message?: string } }).error?.message ?? ''}`;
        attempts.push({ replica: r.proc === a.proc ? 'a' : 'b', id, outcome: `${res.status}${why}` });
        return res;
      } catch (err) {
        attempts.push({ replica: r.proc === a.proc ? 'a' : 'b', id, outcome: 'network_error' });
        if (init?.signal?.aborted !== true) down.add(r);
        throw err;
      } finally {
        pending.delete(id);
      }
    };
    const retries: RetryInfo[] = [];
    const herald = new HeraldServer({
      url: 'http://herald-api.invalid/', apiKey: API_KEY, fetch: balancer, timeoutMs: 5000,
      retry: { maxAttempts: 10, maxElapsedMs: 20_000, baseDelayMs: 50, maxDelayMs: 1000 }, onRetry: (info) => retries.push(info),
    });

    // The kill, timed on the worst moment: once KILL_AT messages are acknowledged, the proxy holds
    // what NATS sends replica a (its appends still reach the stream, their acks no longer reach a),
    // and a is SIGKILLed at the first append seen on NATS (a core subscription to the stream's
    // subjects) of a request sent to a after that. That message is stored and was never answered:
    // its retry on b must hit the dedupe and answer the same seq.
    let killed: Promise<void> | undefined;
    let trigger: string | undefined;
    let unansweredAtKill = -1;
    let ackedCount = 0;
    let ackedAtKill = -1;
    const killA = (): void => {
      unansweredAtKill = inFlight.get(a)?.size ?? 0;
      ackedAtKill = ackedCount;
      killed = a.proc.kill();
    };
    const appends = nc.subscribe('herald.inbox.>', {
      callback: (err, m) => {
        if (err || killed) return;
        const msgId = m.headers?.get('Nats-Msg-Id') ?? '';
        const id = msgId.slice(msgId.indexOf('.') + 1);
        if (!sentToAWhileHeld.has(id)) return;
        trigger = id;
        killA();
      },
    });
    await nc.flush();

    // One stream per user, each message sent once the previous one is acknowledged: the backend's
    // order per user is the order the inbox must keep.
    const users = Array.from({ length: INBOX_USERS }, (_, u) => `inbox-fault-${u}`);
    const acked = new Map<string, { id: string; seq: number; duplicate: boolean }[]>();
    const stream = async (user: string): Promise<void> => {
      const mine: { id: string; seq: number; duplicate: boolean }[] = [];
      acked.set(user, mine);
      for (let i = 0; i < INBOX_PER_USER; i++) {
        const id = `${user}-${i}`;
        const message = { user, id, inbox: true, data: { user, i } } as PublishMessage;
        const r = (await herald.publish(message)).results;
        const res = r[0] as ChannelResult & { readonly id?: string };
        expect(r.length).toBe(1);
        expect(res.ch).toBe(`inbox:${user}`);
        expect(res.id).toBe(id);
        mine.push({ id, seq: res.seq, duplicate: res.duplicate === true });
        if (++ackedCount === KILL_AT) {
          holding = true;
          held.hold();
        }
      }
    };
    const t0 = performance.now();
    await Promise.all(users.map(stream));
    const publishMs = Math.round(performance.now() - t0);
    appends.unsubscribe();
    await killed;
    expect((await a.proc.exited).signal).toBe('SIGKILL');
    expect(down.has(a)).toBe(true);

    // The stored inboxes, read through the surviving replica.
    let lost = 0;
    let storedTwice = 0;
    let outOfOrder = 0;
    let seqMismatch = 0;
    const listings = new Map<string, { seq: number; id: string }[]>();
    for (const user of users) {
      const res = await b.get(`/v1/users/${encodeURIComponent(user)}/inbox?limit=1000`);
      expect(res.status).toBe(200);
      const listed = (res.body as { messages: { seq: number; id: string }[] }).messages;
      listings.set(user, listed);
      const mine = acked.get(user) ?? [];
      const count = new Map<string, number>();
      for (const m of listed) count.set(m.id, (count.get(m.id) ?? 0) + 1);
      lost += mine.filter((m) => !count.has(m.id)).length;
      storedTwice += [...count.values()].reduce((n, c) => n + c - 1, 0);
      const distinct = listed.filter((m, k) => listed.findIndex((x) => x.id === m.id) === k);
      outOfOrder += distinct.filter((m, k) => m.id !== mine[k]?.id).length;
      seqMismatch += mine.filter((m) => listed.find((x) => x.id === m.id)?.seq !== m.seq).length;
    }

    // The users come back, to a gateway with the inbox on: the backlog, then a live message as the
    // end marker (anything repeated from the backlog would come before it).
    const token = (user: string): Promise<string> => signToken({ secret: JWT_SECRET, sub: user, ttlSec: 120 });
    const inboxFrames = (c: WsTestClient): { seq: number; id: string }[] => c.frames.filter((f) => (f.op as string) === 'inbox') as unknown as { seq: number; id: string }[];
    let wsDuplicates = 0;
    let wsMissing = 0;
    let wsOutOfOrder = 0;
    const received = new Map<string, { got: string[]; want: string[] }>();
    await Promise.all(users.map(async (user) => {
      const c = await connectWs(`ws://127.0.0.1:${g.port}/v1/ws`, { token: await token(user) });
      try {
        await c.waitFrame(() => inboxFrames(c).length >= INBOX_PER_USER, 15_000).catch(() => undefined); // a shortfall is counted below
        const live = `${user}-live`;
        await herald.publish({ user, id: live, inbox: true, data: { user, live: true } } as PublishMessage);
        await c.waitFrame((f) => (f.op as string) === 'inbox' && (f as unknown as { id: string }).id === live, 10_000);
        const got = inboxFrames(c);
        const ids = got.map((m) => m.id);
        const want = [...(acked.get(user) ?? []).map((m) => m.id), live];
        wsDuplicates += ids.length - new Set(ids).size;
        wsMissing += want.filter((id) => !ids.includes(id)).length;
        wsOutOfOrder += got.filter((m, k) => k > 0 && m.seq <= (got[k - 1]?.seq ?? 0)).length;
        received.set(user, { got: ids, want });
      } finally {
        await c.close();
      }
    }));

    const retried = new Set(attempts.filter((x, k) => attempts.findIndex((y) => y.id === x.id) !== k).map((x) => x.id));
    const all = [...acked.values()].flat();
    const triggered = all.find((m) => m.id === trigger);
    const triggerAnsweredByA = attempts.some((x) => x.id === trigger && x.replica === 'a' && x.outcome === '200');
    console.log('[inbox-api-fault]', JSON.stringify({
      messages: users.length * INBOX_PER_USER, acknowledged: all.length, publishMs, ackedAtKill, sentToAWhileHeld: sentToAWhileHeld.size, unansweredAtKill,
      attempts: { a: attempts.filter((x) => x.replica === 'a').length, b: attempts.filter((x) => x.replica === 'b').length },
      failedAttempts: attempts.filter((x) => x.outcome !== '200').map((x) => `${x.replica}:${x.outcome}`),
      retries: retries.length, retriedMessages: retried.size,
      storeNotAvailable: [a, b].flatMap((x) => x.proc.logs()).filter((l) => l['msg'] === 'inbox store not available')
        .map((l) => String((l['err'] as { message?: string } | undefined)?.message)),
      duplicatesBeforeDedupe: all.filter((m) => m.duplicate).length,
      lost, storedTwice, outOfOrder, seqMismatch, wsDuplicates, wsMissing, wsOutOfOrder,
    }));
    expect(all.length).toBe(users.length * INBOX_PER_USER);
    for (const user of users) {
      const mine = acked.get(user) ?? [];
      expect(listings.get(user)?.map((m) => m.id), user).toEqual(mine.map((m) => m.id));
      expect(listings.get(user)?.map((m) => m.seq), user).toEqual(mine.map((m) => m.seq));
      expect(received.get(user)?.got, user).toEqual(received.get(user)?.want);
    }
    expect({ lost, storedTwice, outOfOrder, seqMismatch, wsDuplicates, wsMissing, wsOutOfOrder }).toEqual({ lost: 0, storedTwice: 0, outOfOrder: 0, seqMismatch: 0, wsDuplicates: 0, wsMissing: 0, wsOutOfOrder: 0 });
    // A duplicate answer only for a message that was sent more than once.
    for (const m of all.filter((x) => x.duplicate)) expect(retried.has(m.id)).toBe(true);
    // The kill must have hit the flow: some request was sent to a after it (or was on its way).
    expect(retries.length).toBeGreaterThan(0);
    // The append that triggered the kill was stored, never answered by a, and its retry deduplicated.
    expect(trigger).toBeDefined();
    expect(triggerAnsweredByA).toBe(false);
    expect(triggered?.duplicate).toBe(true);
    expect(attempts.filter((x) => x.replica === 'a' && x.outcome === '200' && sentToAWhileHeld.has(x.id))).toEqual([]);
  }, 60_000);
});
