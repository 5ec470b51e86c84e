// Two gateway nodes and a publish API, as separate `herald` processes on one
// nats-server: cross-node delivery, recovery on another node, presence, disconnect.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@herald/auth';
import { connectWs, spawnService, startNatsServer, waitFor, type NatsServerHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const SECRET = 'cluster-test-secret-0123456789abcdef';
const API_KEY = 'cluster-test-api-key-0123456789';

describe('two gateways and a publish API on NATS', () => {
  let nats: NatsServerHandle;
  let gwA: ServiceProcess;
  let gwB: ServiceProcess;
  let api: ServiceProcess;
  const clients: WsTestClient[] = [];

  const common = (): Record<string, string> => ({
    HERALD_NATS_URL: nats.url,
    HERALD_JWT_SECRET: SECRET,
    HERALD_API_KEYS: API_KEY,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: '0',
    HERALD_LOG_LEVEL: 'info',
    HERALD_UNSUBSCRIBE_LINGER_MS: '0',
  });
  const token = (sub: string, topics: string[] = ['news', 'orders.>']): Promise<string> => signToken({ secret: SECRET, sub, topics, ttlSec: 600 });
  const ws = async (gw: ServiceProcess, sub: string, query?: Record<string, string>): Promise<WsTestClient> => {
    const c = await connectWs(`ws://127.0.0.1:${gw.port}/v1/ws`, { token: await token(sub), ...(query ? { query } : {}) });
    clients.push(c);
    return c;
  };
  const api$ = async (path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`http://127.0.0.1:${api.port}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const publish = async (body: Record<string, unknown>): Promise<{ ch: string; seq: number }[]> => {
    const r = await api$('/v1/publish', body);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json['results'] as { ch: string; seq: number }[];
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    [gwA, gwB, api] = await Promise.all([
      spawnService({ args: [CLI, 'gateway'], env: { ...common(), HERALD_NODE_ID: 'gw-a' } }),
      spawnService({ args: [CLI, 'gateway'], env: { ...common(), HERALD_NODE_ID: 'gw-b' } }),
      spawnService({ args: [CLI, 'publish-api'], env: { ...common(), HERALD_NODE_ID: 'api-1' } }),
    ]);
  });
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await Promise.all([gwA?.kill(), gwB?.kill(), api?.kill()]);
    await nats?.stop();
  });

  it('delivers a user message to the user\'s connections on both nodes', async () => {
    const a = await ws(gwA, 'alice');
    const b = await ws(gwB, 'alice');
    expect(a.ofOp('welcome')[0]?.node).toBe('gw-a');
    expect(b.ofOp('welcome')[0]?.node).toBe('gw-b');
    const [r] = await publish({ user: 'alice', data: { hi: 'both' } });
    for (const c of [a, b]) {
      const [m] = await c.waitMessages('user:alice', 1);
      expect(m).toMatchObject({ ch: 'user:alice', seq: r?.seq, prev: 0, data: { hi: 'both' } });
    }
  });

  it('fans a topic out to subscribers on both nodes, in order', async () => {
    const subs = [await ws(gwA, 's1'), await ws(gwA, 's2'), await ws(gwB, 's3')];
    for (const s of subs) expect(await s.request({ op: 'sub', id: 1, topics: ['orders.eu'] })).toMatchObject({ results: { 'topic:orders.eu': { ok: true } } });
    const seqs: number[] = [];
    for (let i = 0; i < 20; i++) seqs.push(((await publish({ topic: 'orders.eu', data: { i } }))[0] as { seq: number }).seq);
    for (const s of subs) {
      const msgs = await s.waitMessages('topic:orders.eu', 20);
      expect(msgs.map((m) => m.seq)).toEqual(seqs);
      expect(msgs.slice(1).map((m) => m.prev)).toEqual(seqs.slice(0, -1));
    }
  });

  it('recovers on another node with since: every message once and in order, then live', async () => {
    const first = await ws(gwA, 'rita');
    await first.request({ op: 'sub', id: 1, topics: ['news'] });
    await publish({ topic: 'news', data: 0 });
    const [m0] = await first.waitMessages('topic:news', 1);
    const epoch = first.ofOp('welcome')[0]?.epoch;
    first.terminate();
    const missed: number[] = [];
    for (let i = 1; i <= 10; i++) missed.push(((await publish({ topic: 'news', data: i }))[0] as { seq: number }).seq);
    const again = await ws(gwB, 'rita');
    // a publisher keeps going while the recovery runs: nothing may be lost or doubled
    const live = (async () => {
      const seqs: number[] = [];
      for (let i = 11; i <= 20; i++) seqs.push(((await publish({ topic: 'news', data: i }))[0] as { seq: number }).seq);
      return seqs;
    })();
    const ack = await again.request({ op: 'sub', id: 2, topics: ['news'], since: { 'topic:news': m0?.seq }, epoch });
    expect(ack).toMatchObject({ results: { 'topic:news': { ok: true, recovered: true } } });
    const liveSeqs = await live;
    const msgs = await again.waitMessages('topic:news', 20);
    expect(msgs.map((m) => m.data)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(msgs.map((m) => m.seq)).toEqual([...missed, ...liveSeqs]);
  });

  it('recovers the personal channel through the upgrade URL on another node', async () => {
    const first = await ws(gwA, 'paul');
    await publish({ user: 'paul', data: 'a' });
    const [m] = await first.waitMessages('user:paul', 1);
    const epoch = first.ofOp('welcome')[0]?.epoch as string;
    first.terminate();
    await publish({ user: 'paul', data: 'b' });
    await publish({ user: 'paul', data: 'c' });
    const again = await ws(gwB, 'paul', { since: String(m?.seq), epoch });
    expect(again.ofOp('welcome')[0]).toMatchObject({ recovered: true });
    const msgs = await again.waitMessages('user:paul', 2);
    expect(msgs.map((x) => x.data)).toEqual(['b', 'c']);
  });

  it('counts presence and disconnects a user across nodes', async () => {
    const conns = [await ws(gwA, 'dora'), await ws(gwB, 'dora'), await ws(gwB, 'dora')];
    await waitFor(async () => (await api$('/v1/presence?user=dora')).json['connections'] === 3, 5000, 'presence 3');
    const r = await api$('/v1/disconnect', { user: 'dora', code: 4003, reason: 'bye' });
    expect(r.json).toMatchObject({ disconnected: 3 });
    for (const c of conns) expect((await c.closed).code).toBe(4003);
    await waitFor(async () => (await api$('/v1/presence?user=dora')).json['connections'] === 0, 5000, 'presence 0');
  });

  it('reports readiness on every process', async () => {
    for (const p of [gwA, gwB, api]) expect((await fetch(`http://127.0.0.1:${p.port}/readyz`)).status).toBe(200);
  });
});
