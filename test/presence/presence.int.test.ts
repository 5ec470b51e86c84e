// Presence members from real gateways (docs/events.md#presence-members): three `herald gateway`
// processes on a three-server NATS cluster with HERALD_PRESENCE_TOPICS, subscribers that read the
// member list (`sub` with `presence: [topic]`) on every node, the publish API's member list, a node
// SIGKILLed, the member cap, and a reconnect storm whose join/leave frames are counted. Then
// `herald dev` (memory mode). Figures are printed with a [presence] prefix.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@herald/auth';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import { connectWs, spawnService, startNatsCluster, waitFor, type NatsClusterHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../../services/herald/dist/cli.js');
const JWT_SECRET = 'presence-members-jwt-secret-0123456789abcdef';
const API_KEY = 'presence-members-api-key-0123456789';
const GRACE_MS = 800;
const BATCH_MS = 100;
const HEARTBEAT_MS = 400;
const MAX_MEMBERS = 400;
const STORM = Number(process.env['PRESENCE_STORM'] ?? 1500);

interface PresenceFrame { op: 'presence'; ch: string; join?: { user: string; info?: Record<string, unknown> }[]; leave?: string[] }

const token = (sub: string, extra: Record<string, unknown> = {}): Promise<string> =>
  signToken({ secret: JWT_SECRET, sub, topics: ['>'], ttlSec: 600, extra: { presence: ['room.>'], ...extra } });

/** A reader's view of a topic: the `sub` result's members, then every `presence` frame applied in order. */
class View {
  readonly members = new Map<string, Record<string, unknown> | undefined>();
  joins = 0;
  leaves = 0;
  frames = 0;
  readonly #seen = new Set<PresenceFrame>();
  constructor(readonly client: WsTestClient, readonly ch: string) {}
  static async open(client: WsTestClient, topic: string): Promise<View> {
    const v = new View(client, `topic:${topic}`);
    const ack = await client.request({ op: 'sub', id: `p-${topic}`, topics: [topic], presence: [topic] }) as { results: Record<string, { ok: boolean; members?: { user: string; info?: Record<string, unknown> }[] }> };
    const r = ack.results[v.ch];
    if (!r?.ok) throw new Error(`presence sub refused: ${JSON.stringify(r)}`);
    for (const m of r.members ?? []) v.members.set(m.user, m.info);
    v.#seen.clear();
    for (const f of client.frames) if ((f as { op: string }).op === 'presence') v.#seen.add(f as PresenceFrame);
    return v;
  }
  /** Applies frames received since the last call. */
  sync(): this {
    for (const f of this.client.frames as unknown as PresenceFrame[]) {
      if (f.op !== 'presence' || f.ch !== this.ch || this.#seen.has(f)) continue;
      this.#seen.add(f);
      this.frames++;
      for (const j of f.join ?? []) {
        this.joins++;
        this.members.set(j.user, j.info);
      }
      for (const u of f.leave ?? []) {
        this.leaves++;
        this.members.delete(u);
      }
    }
    return this;
  }
  users(): string[] {
    return [...this.sync().members.keys()].sort();
  }
}

describe('presence members on three gateways and a NATS cluster', () => {
  let nats: NatsClusterHandle;
  const gws = new Map<string, ServiceProcess>();
  let api: ServiceProcess;
  // Lifecycle events are on too (HERALD_EVENTS): the storm's user and topic events are counted on the events stream.
  let nc: NatsConnection;
  let events: ConsumerMessages;
  const seen: { type: string; user?: string; topic?: string }[] = [];
  const clients: WsTestClient[] = [];
  const url = (id: string): string => `ws://127.0.0.1:${(gws.get(id) as ServiceProcess).port}/v1/ws`;
  async function open(id: string, user: string, topics: string[] = [], extra: Record<string, unknown> = {}): Promise<WsTestClient> {
    const c = await connectWs(url(id), { token: await token(user, extra) });
    clients.push(c);
    await c.waitFrame((f) => f.op === 'welcome');
    if (topics.length > 0) {
      const ack = await c.request({ op: 'sub', id: 's', topics }) as { results: Record<string, { ok: boolean }> };
      for (const t of topics) expect(ack.results[`topic:${t}`], `${user} on ${t}`).toMatchObject({ ok: true });
    }
    return c;
  }
  async function members(topic: string): Promise<{ memberCount: number; members: { user: string; info?: unknown }[]; next?: string }> {
    const res = await fetch(`http://127.0.0.1:${api.port}/v1/presence?topic=${topic}&members=true&limit=1000`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(res.status).toBe(200);
    return await res.json() as { memberCount: number; members: { user: string }[] };
  }

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    const servers = nats.servers.map((s) => s.url);
    const env = {
      HERALD_JWT_SECRET: JWT_SECRET, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info', HERALD_NATS_REPLICAS: '3',
      HERALD_PRESENCE_TOPICS: 'room.>', HERALD_PRESENCE_GRACE_MS: String(GRACE_MS), HERALD_PRESENCE_BATCH_MS: String(BATCH_MS),
      HERALD_PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS), HERALD_PRESENCE_MAX_MEMBERS: String(MAX_MEMBERS),
      HERALD_MAX_CONNECTIONS_PER_USER: '10', HERALD_UPGRADE_RATE: '100000', HERALD_MAX_UPGRADES_PER_IP_RATE: '100000',
      HERALD_EVENTS: 'true', HERALD_OFFLINE_GRACE_MS: String(GRACE_MS),
    };
    await Promise.all(['gw-a', 'gw-b', 'gw-c'].map(async (id, i) => {
      const urls = [...servers.slice(i), ...servers.slice(0, i)].join(',');
      gws.set(id, await spawnService({ args: [CLI, 'gateway'], env: { ...env, HERALD_NATS_URL: urls, HERALD_NODE_ID: id }, timeoutMs: 40_000 }));
    }));
    const { HERALD_EVENTS: _e, HERALD_OFFLINE_GRACE_MS: _g, ...apiEnv } = env;
    api = await spawnService({ args: [CLI, 'publish-api'], env: { ...apiEnv, HERALD_NATS_URL: servers.join(','), HERALD_API_KEYS: API_KEY, HERALD_NODE_ID: 'api' }, timeoutMs: 40_000 });
    nc = await connect({ servers });
    events = await (await jetstream(nc).consumers.get('herald_events', { deliver_policy: DeliverPolicy.All })).consume();
    void (async () => {
      for await (const m of events) {
        const e = JSON.parse(m.string()) as { type: string; data: { user?: string; topic?: string } };
        seen.push({ type: e.type, ...e.data });
      }
    })();
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.ws.terminate();
    await Promise.all([...gws.values()].map((g) => g.kill()));
    await api?.kill();
    await events?.close().catch(() => undefined);
    await nc?.close();
    await nats?.stop();
  });

  it('every node shows the same members after joins and leaves; a user with several connections joins once and leaves once', async () => {
    const readers = [await open('gw-a', 'reader-a'), await open('gw-b', 'reader-b'), await open('gw-c', 'reader-c')];
    const views = await Promise.all(readers.map((c) => View.open(c, 'room.1')));
    await open('gw-a', 'ann', ['room.1'], { info: { name: 'Ann' } });
    await open('gw-b', 'ben', ['room.1']);
    // multi: three connections on two nodes.
    const multi = [await open('gw-b', 'multi', ['room.1']), await open('gw-c', 'multi', ['room.1']), await open('gw-c', 'multi', ['room.1'])];
    const want = ['ann', 'ben', 'multi', 'reader-a', 'reader-b', 'reader-c'];
    await waitFor(() => views.every((v) => JSON.stringify(v.users()) === JSON.stringify(want)) || undefined, 10_000, 'members agree on every node');
    expect(views[1]!.members.get('ann')).toEqual({ name: 'Ann' });
    expect((await members('room.1')).members.map((m) => m.user)).toEqual(want);
    for (const v of views) expect(v.client.ofOp('presence' as never).flatMap((f) => (f as unknown as PresenceFrame).join ?? []).filter((j) => j.user === 'multi')).toHaveLength(1);
    // multi closes one connection after another: one leave per reader, after the grace.
    const closedAt = Date.now();
    for (const c of multi) await c.close();
    await waitFor(() => views.every((v) => !v.users().includes('multi')) || undefined, 10_000, 'multi left everywhere');
    const leftAfter = Date.now() - closedAt;
    for (const v of views) expect(v.client.frames.flatMap((f) => (f as unknown as PresenceFrame).op === 'presence' ? (f as unknown as PresenceFrame).leave ?? [] : []).filter((u) => u === 'multi')).toHaveLength(1);
    expect(leftAfter).toBeGreaterThanOrEqual(GRACE_MS - 50);
    console.log(`[presence] a user with 3 connections on 2 nodes: 1 join and 1 leave per reader; leave seen ${leftAfter} ms after the last close (grace ${GRACE_MS} ms, batch ${BATCH_MS} ms)`);
    // A reconnect within the grace: nothing.
    const before = views.map((v) => v.sync().frames);
    const ann2 = await open('gw-c', 'ben', ['room.1']);
    await ann2.close();
    await new Promise((r) => setTimeout(r, GRACE_MS + 3 * BATCH_MS));
    expect(views.map((v) => v.sync().frames)).toEqual(before);
  }, 60_000);

  it('a SIGKILLed node: its users leave on the others after the silence timeout, users also elsewhere stay', async () => {
    const views = [await View.open(await open('gw-a', 'watch-a'), 'room.kill'), await View.open(await open('gw-b', 'watch-b'), 'room.kill')];
    await open('gw-c', 'only-c', ['room.kill']);
    await open('gw-c', 'both', ['room.kill']);
    await open('gw-a', 'both', ['room.kill']);
    await waitFor(() => views.every((v) => v.users().join() === 'both,only-c,watch-a,watch-b') || undefined, 10_000, 'four members');
    const killedAt = Date.now();
    await gws.get('gw-c')!.kill();
    await waitFor(() => views.every((v) => v.users().join() === 'both,watch-a,watch-b') || undefined, 15_000, 'only-c left');
    const after = Date.now() - killedAt;
    for (const v of views) expect(v.leaves).toBe(1);
    expect((await members('room.kill')).members.map((m) => m.user)).toEqual(['both', 'watch-a', 'watch-b']);
    console.log(`[presence] node SIGKILLed: its users left on the other nodes ${after} ms later (3 silent heartbeats of ${HEARTBEAT_MS} ms + batch)`);
  }, 40_000);

  it('the member cap answers `full` to a new user, not to a member opening another connection', async () => {
    const topic = 'room.cap';
    const c = [];
    for (let i = 0; i < MAX_MEMBERS; i++) c.push(connectWs(url(i % 2 === 0 ? 'gw-a' : 'gw-b'), { token: await token(`cap-${i}`) }));
    const conns = await Promise.all(c);
    clients.push(...conns);
    await Promise.all(conns.map(async (x) => {
      await x.waitFrame((f) => f.op === 'welcome');
      expect(await x.request({ op: 'sub', id: 1, topics: [topic] })).toMatchObject({ results: { [`topic:${topic}`]: { ok: true } } });
    }));
    await waitFor(async () => (await members(topic)).memberCount === MAX_MEMBERS || undefined, 10_000, 'cap reached');
    // Wait until both nodes saw each other's members.
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    const late = await open('gw-a', 'late');
    expect(await late.request({ op: 'sub', id: 1, topics: [topic] })).toMatchObject({ results: { [`topic:${topic}`]: { ok: false, code: 'full' } } });
    const again = await open('gw-b', 'cap-0');
    expect(await again.request({ op: 'sub', id: 1, topics: [topic] })).toMatchObject({ results: { [`topic:${topic}`]: { ok: true } } });
    // Reading without the `presence` claim: forbidden.
    const nosy = await connectWs(url('gw-a'), { token: await signToken({ secret: JWT_SECRET, sub: 'nosy', topics: ['>'], ttlSec: 600 }) });
    clients.push(nosy);
    await nosy.waitFrame((f) => f.op === 'welcome');
    expect(await nosy.request({ op: 'sub', id: 1, topics: ['room.1'], presence: ['room.1'] })).toMatchObject({ results: { 'topic:room.1': { ok: false, code: 'forbidden' } } });
    for (const x of conns) x.ws.terminate();
  }, 60_000);

  it(`a reconnect storm of ${STORM} connections within the grace sends no join/leave; beyond it, one batch per window`, async () => {
    const topic = 'room.storm';
    const view = await View.open(await open('gw-b', 'storm-watch'), topic);
    const tokens = await Promise.all(Array.from({ length: STORM }, (_, i) => token(`s-${i % 300}`)));
    async function wave(): Promise<WsTestClient[]> {
      const out: WsTestClient[] = [];
      for (let i = 0; i < STORM; i += 100) {
        const batch = await Promise.all(tokens.slice(i, i + 100).map((t) => connectWs(url('gw-a'), { token: t })));
        await Promise.all(batch.map(async (x) => {
          await x.waitFrame((f) => f.op === 'welcome', 20_000);
          await x.request({ op: 'sub', id: 1, topics: [topic] }, 20_000);
        }));
        out.push(...batch);
      }
      return out;
    }
    const t0 = Date.now();
    let conns = await wave();
    const joinedIn = Date.now() - t0;
    await waitFor(() => view.users().length === 301 || undefined, 20_000, '300 storm users + the watcher');
    const framesAfterJoin = view.frames;
    const joinsAfterJoin = view.joins;
    const stormUser = (e: { user?: string }): boolean => e.user?.startsWith('s-') === true;
    await waitFor(() => seen.filter((e) => e.type === 'user.online' && stormUser(e)).length === 300 || undefined, 20_000, '300 user.online');
    const eventsBefore = seen.length;
    // The storm: every connection drops and comes back (same users) within the grace.
    const s0 = Date.now();
    const frames0 = view.frames;
    for (const x of conns) x.ws.terminate();
    conns = await wave();
    const stormMs = Date.now() - s0;
    await new Promise((r) => setTimeout(r, GRACE_MS + 4 * BATCH_MS));
    const stormFrames = view.sync().frames - frames0;
    const windows = Math.ceil((Date.now() - s0) / BATCH_MS);
    const stormEvents = seen.slice(eventsBefore).filter((e) => stormUser(e) || e.topic === topic);
    console.log(`[presence] ${STORM} connections of 300 users joined in ${joinedIn} ms: ${framesAfterJoin} presence frames with ${joinsAfterJoin} joins at the watcher (batch ${BATCH_MS} ms); reconnect storm of ${STORM} connections took ${stormMs} ms: ${stormFrames} frames, ${view.leaves} leaves, ${view.joins - joinsAfterJoin} joins (bound: ${windows} frames, one per ${BATCH_MS} ms window; grace ${GRACE_MS} ms); lifecycle events during the storm: ${stormEvents.length} (${[...new Set(stormEvents.map((e) => e.type))].join(', ') || 'none'})`);
    expect(stormFrames).toBeLessThanOrEqual(windows);
    // Within the grace nobody leaves; a storm slower than the grace (a loaded machine) may show
    // leaves, each followed by the user's join on return: every storm user is a member again here.
    if (stormMs < GRACE_MS) expect(view.leaves).toBe(0);
    await waitFor(() => view.users().length === 301 || undefined, 20_000, 'every storm user a member again');
    const leavesBeforeClose = view.leaves;
    for (const x of conns) x.ws.terminate();
    await waitFor(() => view.users().length === 1 || undefined, 20_000, 'all storm users left');
    console.log(`[presence] all ${STORM} closed: ${view.leaves - leavesBeforeClose} leaves in ${view.frames - framesAfterJoin - stormFrames} frames`);
    expect(view.leaves - leavesBeforeClose).toBe(300);
    // Every storm user ends offline: the last lifecycle event of each of the 300 is user.offline.
    const lastOf = (): Map<string, string> => new Map(seen.filter(stormUser).map((e) => [e.user as string, e.type]));
    await waitFor(() => [...lastOf().values()].filter((t) => t === 'user.offline').length === 300 || undefined, 20_000, '300 users offline');
    const perUser = new Map<string, string[]>();
    for (const e of seen) if (stormUser(e)) perUser.set(e.user as string, [...(perUser.get(e.user as string) ?? []), e.type]);
    // Online and offline alternate for every user and end offline (one event per transition, cluster-wide).
    const wrong = [...perUser].filter(([, types]) => !/^user\.online,user\.offline(,user\.online,user\.offline)*$/.test(types.join()));
    const pairs = [...perUser.values()].reduce((n, t) => n + t.length / 2, 0);
    console.log(`[presence] lifecycle events of the 300 storm users: ${[...perUser.values()].flat().length} (${pairs} online/offline pairs; users whose events do not alternate: ${wrong.length})`);
    expect(wrong).toEqual([]);
  }, 180_000);
});

describe('presence members in memory mode (`herald dev`)', () => {
  it('lists members, sends join and leave, answers GET /v1/presence?members=true', async () => {
    const dev = await spawnService({
      args: [CLI, 'dev'],
      env: {
        HERALD_JWT_SECRET: JWT_SECRET, HERALD_API_KEYS: API_KEY, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info',
        HERALD_PRESENCE_TOPICS: 'room.>', HERALD_PRESENCE_GRACE_MS: '200', HERALD_PRESENCE_BATCH_MS: '50',
      },
      timeoutMs: 30_000,
    });
    try {
      const ws = `ws://127.0.0.1:${dev.port}/v1/ws`;
      const a = await connectWs(ws, { token: await token('amy', { info: { n: 1 } }) });
      await a.waitFrame((f) => f.op === 'welcome');
      const view = await View.open(a, 'room.dev');
      expect(view.users()).toEqual(['amy']);
      const b = await connectWs(ws, { token: await token('bob') });
      await b.waitFrame((f) => f.op === 'welcome');
      await b.request({ op: 'sub', id: 1, topics: ['room.dev'] });
      await waitFor(() => view.users().join() === 'amy,bob' || undefined, 5000, 'bob joined');
      const res = await fetch(`http://127.0.0.1:${dev.port}/v1/presence?topic=room.dev&members=true&limit=1`, { headers: { authorization: `Bearer ${API_KEY}` } });
      expect(await res.json()).toEqual({ topic: 'room.dev', subscribers: 2, memberCount: 2, members: [{ user: 'amy', info: { n: 1 } }], next: 'amy' });
      await b.close();
      await waitFor(() => view.users().join() === 'amy' || undefined, 5000, 'bob left');
      a.ws.terminate();
    } finally {
      await dev.kill();
    }
  }, 40_000);
});
