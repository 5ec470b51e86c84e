// Lifecycle events from real gateways (docs/events.md): three `herald gateway` processes on a
// three-server NATS cluster with HERALD_EVENTS on, a real HTTP webhook receiver that checks
// every signature, and the events stream read back with a JetStream consumer; then `herald dev`
// (memory mode) delivering the same webhooks from one process, for WebSocket and SSE alike.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import { signToken } from '@herald/auth';
import { connectSse } from '../../services/gateway/test/sse-client.js';
import { connectWs, spawnService, startNatsCluster, startWebhookReceiver, waitFor, type NatsClusterHandle, type ServiceProcess, type WebhookReceiver, type WsTestClient } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../../services/herald/dist/cli.js');
const JWT_SECRET = 'events-wiring-jwt-secret-0123456789abcdef';
const API_KEY = 'events-wiring-api-key-0123456789';
/** A Standard Webhooks secret: `whsec_` + base64 of 32 bytes. */
const HOOK_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const GRACE_MS = 1000;

interface Received {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly at: number;
  readonly signed: boolean;
}

/** The events a webhook receiver (@herald/testkit, which checks every signature) got, parsed. */
class Receiver {
  #receiver: WebhookReceiver | undefined;
  get got(): Received[] {
    return (this.#receiver?.received ?? []).map((r) => {
      const event = JSON.parse(r.body) as { id: string; type: string; data: Record<string, unknown> };
      return { id: event.id, type: event.type, data: event.data, at: r.at, signed: r.signed && r.id === event.id };
    });
  }
  async listen(): Promise<string> {
    this.#receiver = await startWebhookReceiver({ secret: HOOK_SECRET });
    return this.#receiver.url;
  }
  of(user: string, type?: string): Received[] {
    return this.got.filter((r) => r.data['user'] === user && (type === undefined || r.type === type));
  }
  async close(): Promise<void> {
    await this.#receiver?.close();
  }
}

/** Every event on the events stream, read with an ordered consumer from the start (what a backend on NATS sees). */
async function readStream(nc: NatsConnection): Promise<{ seen: Received[]; messages: ConsumerMessages }> {
  const seen: Received[] = [];
  const consumer = await jetstream(nc).consumers.get('herald_events', { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      const e = JSON.parse(m.string()) as { id: string; type: string; data: Record<string, unknown> };
      seen.push({ id: e.id, type: e.type, data: e.data, at: Date.now(), signed: true });
    }
  })();
  return { seen, messages };
}

const ofUser = (rs: readonly Received[], user: string, type?: string): Received[] =>
  rs.filter((r) => r.data['user'] === user && (type === undefined || r.type === type));
const userTypes = (rs: readonly Received[], user: string): string[] => ofUser(rs, user).filter((r) => r.type.startsWith('user.')).map((r) => r.type);

const token = (sub: string): Promise<string> => signToken({ secret: JWT_SECRET, sub, topics: ['>'], ttlSec: 600 });

/** Figures printed at the end: transition → webhook received, ms. */
const latency = { welcomeToOnline: [] as number[], online: [] as number[], offline: [] as number[], killOffline: [] as number[] };

function duplicatesById(rs: readonly Received[]): number {
  return rs.length - new Set(rs.map((r) => r.id)).size;
}

describe('lifecycle events from three gateways on a NATS cluster', () => {
  let nats: NatsClusterHandle;
  let nc: NatsConnection;
  let stream: { seen: Received[]; messages: ConsumerMessages };
  const hooks = new Receiver();
  const gws = new Map<string, ServiceProcess>();
  const clients: WsTestClient[] = [];
  const url = (id: string): string => `ws://127.0.0.1:${(gws.get(id) as ServiceProcess).port}/v1/ws`;
  async function open(id: string, user: string, topics: string[] = []): Promise<WsTestClient> {
    const c = await connectWs(url(id), { token: await token(user) });
    clients.push(c);
    await c.waitFrame((f) => f.op === 'welcome');
    if (topics.length > 0) expect((await c.request({ op: 'sub', id: 1, topics: topics })).op).toBe('ack');
    return c;
  }

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    const hookUrl = await hooks.listen();
    const servers = nats.servers.map((s) => s.url);
    await Promise.all(['gw-a', 'gw-b', 'gw-c'].map(async (id, i) => {
      // Each gateway starts on a different server of the cluster.
      const urls = [...servers.slice(i), ...servers.slice(0, i)].join(',');
      gws.set(id, await spawnService({
        args: [CLI, 'gateway'],
        env: {
          HERALD_NATS_URL: urls, HERALD_NATS_REPLICAS: '3', HERALD_JWT_SECRET: JWT_SECRET, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0',
          HERALD_NODE_ID: id, HERALD_LOG_LEVEL: 'info', HERALD_DRAIN_WINDOW_MS: '300', HERALD_DRAIN_TIMEOUT_MS: '3000',
          HERALD_EVENTS: 'true', HERALD_EVENTS_CONNECTIONS: 'true', HERALD_OFFLINE_GRACE_MS: String(GRACE_MS),
          HERALD_WEBHOOK_URLS: hookUrl, HERALD_WEBHOOK_SECRET: HOOK_SECRET,
        },
        timeoutMs: 40_000,
      }));
    }));
    nc = await connect({ servers });
    stream = await readStream(nc);
  });

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await Promise.all([...gws.values()].map((g) => g.kill()));
    await stream?.messages.close().catch(() => undefined);
    await nc?.close();
    await hooks.close();
    await nats?.stop();
    if (process.env['EVENTSWIRE_DEBUG']) {
      for (const [id, g] of gws) for (const l of g.logs().filter((r) => Number(r['level']) >= 40)) console.log(id, JSON.stringify(l).slice(0, 400));
      console.log('stream', JSON.stringify(stream.seen.map((x) => [x.type, x.data['user'] ?? x.data['topic']])));
      console.log('hooks', JSON.stringify(hooks.got.map((x) => [x.type, x.data['user'] ?? x.data['topic']])));
    }
    const all = hooks.got;
     
    console.log(`[eventswire] webhooks ${all.length}, duplicates by id ${duplicatesById(all)}; latency ms: connect call → online ${latency.online.join(', ')} (welcome → online ${latency.welcomeToOnline.join(', ')}); offline after grace ${latency.offline.join(', ')}; offline on the stream after a SIGKILL (grace + detection included) ${latency.killOffline.join(', ')}; events on the stream ${stream?.seen.length ?? 0}, webhooks still missing at the end ${(stream?.seen ?? []).filter((x) => !all.some((h) => h.id === x.id)).length}`);
  });

  it('one user.online when a user connects, none when they move to another node within the grace, one user.offline after their last close', async () => {
    const t0 = Date.now();
    const a = await open('gw-a', 'alice');
    const welcomed = Date.now();
    expect((await a.request({ op: 'sub', id: 1, topics: ['room.1'] })).op).toBe('ack');
    await waitFor(() => hooks.of('alice', 'user.online').length === 1, 10_000, 'user.online of alice');
    const onlineAt = (hooks.of('alice', 'user.online')[0] as Received).at;
    latency.online.push(onlineAt - t0);
    latency.welcomeToOnline.push(onlineAt - welcomed);
    // The move: alice opens on B and closes on A; bob, who closes at the same moment and does
    // not come back, is the clock: once his offline arrived, alice's would have too.
    const bob = await open('gw-a', 'bob');
    await waitFor(() => hooks.of('bob', 'user.online').length === 1, 10_000, 'user.online of bob');
    const b = await open('gw-b', 'alice', ['room.1']);
    await Promise.all([a.close(), bob.close()]);
    await waitFor(() => hooks.of('bob', 'user.offline').length === 1, 10_000, 'user.offline of bob');
    expect(hooks.of('alice').filter((r) => r.type.startsWith('user.')).map((r) => r.type)).toEqual(['user.online']);
    // Her last connection closes: one offline after the grace.
    const closedAt = Date.now();
    await b.close();
    await waitFor(() => hooks.of('alice', 'user.offline').length === 1, 10_000, 'user.offline of alice');
    const off = hooks.of('alice', 'user.offline')[0] as Received;
    expect(off.at - closedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    latency.offline.push(off.at - closedAt - GRACE_MS);
    // The topic was held throughout the move: occupied once, vacated once.
    await waitFor(() => hooks.got.some((r) => r.type === 'topic.vacated' && r.data['topic'] === 'room.1'), 10_000, 'topic.vacated');
    expect(hooks.got.filter((r) => r.data['topic'] === 'room.1').map((r) => r.type)).toEqual(['topic.occupied', 'topic.vacated']);
    // Opt-in connection events: one opened and one closed (with its code) per connection.
    expect(hooks.of('alice', 'connection.opened')).toHaveLength(2);
    expect(hooks.of('alice', 'connection.closed').map((r) => r.data['code'])).toEqual([1000, 1000]);
    // Every webhook signed; the same events, same ids, on the events stream.
    expect(hooks.got.every((r) => r.signed)).toBe(true);
    const ids = hooks.of('alice').filter((r) => r.type.startsWith('user.')).map((r) => r.id);
    await waitFor(() => ids.every((id) => stream.seen.some((s) => s.id === id)), 5000, 'the events on the stream');
    expect(stream.seen.filter((s) => s.data['user'] === 'alice' && s.type.startsWith('user.')).map((s) => s.type)).toEqual(['user.online', 'user.offline']);
    expect(duplicatesById(hooks.got)).toBe(0);
  });

  // Once a gateway has left, the transitions are checked on the events stream: JetStream may
  // have handed a few events to the departed node's last pull request, and those reach the
  // webhook through another gateway only after the consumer's ack wait (docs/events.md, limits).
  it('a drained gateway: its users who reconnect elsewhere within the grace stay online, the others go offline', async () => {
    const stays = await open('gw-b', 'dora');
    await open('gw-b', 'dan');
    await waitFor(() => ofUser(stream.seen, 'dora', 'user.online').length === 1 && ofUser(stream.seen, 'dan', 'user.online').length === 1, 10_000, 'online of dora and dan');
    // dora behaves like the SDK: on `reconnect` she opens on another node, then leaves.
    void stays.waitFrame((f) => f.op === 'reconnect', 5000).then(async () => {
      await open('gw-a', 'dora');
      await stays.close();
    });
    (gws.get('gw-b') as ServiceProcess).signal('SIGTERM');
    expect((await (gws.get('gw-b') as ServiceProcess).exited).code).toBe(0);
    await waitFor(() => ofUser(stream.seen, 'dan', 'user.offline').length === 1, 10_000, 'user.offline of dan');
    expect(userTypes(stream.seen, 'dora')).toEqual(['user.online']);
    expect(userTypes(hooks.got, 'dora')).not.toContain('user.offline');
  });

  it('a SIGKILLed gateway: user.offline after the grace for its users who did not come back, none for those who did', async () => {
    await open('gw-c', 'kim');
    await open('gw-c', 'kurt');
    await waitFor(() => ofUser(stream.seen, 'kim', 'user.online').length === 1 && ofUser(stream.seen, 'kurt', 'user.online').length === 1, 10_000, 'online of kim and kurt');
    const killedAt = Date.now();
    await (gws.get('gw-c') as ServiceProcess).kill();
    await open('gw-a', 'kurt'); // came back at once
    await waitFor(() => ofUser(stream.seen, 'kim', 'user.offline').length === 1, 15_000, 'user.offline of kim');
    const off = ofUser(stream.seen, 'kim', 'user.offline')[0] as Received;
    expect(off.at - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    latency.killOffline.push(off.at - killedAt);
    expect(userTypes(stream.seen, 'kurt')).toEqual(['user.online']);
    expect(userTypes(hooks.got, 'kurt')).not.toContain('user.offline');
    expect(hooks.got.every((r) => r.signed)).toBe(true);
    expect(duplicatesById(hooks.got)).toBe(0);
    expect(duplicatesById(stream.seen)).toBe(0);
  });
});

describe('lifecycle events in memory mode (`herald dev`)', () => {
  it('delivers signed user.online and user.offline webhooks from the one process', async () => {
    const hooks = new Receiver();
    const hookUrl = await hooks.listen();
    const dev = await spawnService({
      args: [CLI, 'dev'],
      env: {
        HERALD_JWT_SECRET: JWT_SECRET, HERALD_API_KEYS: API_KEY, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info',
        HERALD_EVENTS: 'true', HERALD_OFFLINE_GRACE_MS: '300', HERALD_WEBHOOK_URLS: hookUrl, HERALD_WEBHOOK_SECRET: HOOK_SECRET,
      },
      timeoutMs: 30_000,
    });
    try {
      const t0 = Date.now();
      const c = await connectWs(`ws://127.0.0.1:${dev.port}/v1/ws`, { token: await token('mia') });
      await waitFor(() => hooks.of('mia', 'user.online').length === 1, 5000, 'user.online of mia');
      const on = hooks.of('mia', 'user.online')[0] as Received;
      const closedAt = Date.now();
      await c.close();
      await waitFor(() => hooks.of('mia', 'user.offline').length === 1, 5000, 'user.offline of mia');
      const off = hooks.of('mia', 'user.offline')[0] as Received;
      expect(off.at - closedAt).toBeGreaterThanOrEqual(250);
      // An SSE stream counts like a WebSocket: its user and its topics.
      const sse = await connectSse(`http://127.0.0.1:${dev.port}`, { token: await token('sam'), topics: ['lobby'] });
      await waitFor(() => hooks.of('sam', 'user.online').length === 1 && hooks.got.some((r) => r.type === 'topic.occupied' && r.data['topic'] === 'lobby'), 5000, 'sam online, lobby occupied');
      sse.close();
      await waitFor(() => hooks.of('sam', 'user.offline').length === 1 && hooks.got.some((r) => r.type === 'topic.vacated' && r.data['topic'] === 'lobby'), 5000, 'sam offline, lobby vacated');
      expect(hooks.got.every((r) => r.signed)).toBe(true);
      expect(duplicatesById(hooks.got)).toBe(0);
       
      console.log(`[eventswire] herald dev: online ${on.at - t0} ms after connect, offline ${off.at - closedAt - 300} ms after the grace`);
    } finally {
      await dev.kill();
      await hooks.close();
    }
  });
});
