// The inbox on the gateway with real processes (docs/inbox.md, docs/protocol.md#inbox): gateway
// and publish API processes on a real nats-server, and `herald dev`. A backend publishes inbox
// messages to an offline user; the user comes back after the history window (tiny here) and gets
// every message once in order, then live ones with no gap or duplicate at the seam (publishing
// while connecting); two devices: `delivered` shows in GET /v1/users/{id}/inbox, `read` on one is
// a `read` frame on the other; one message.delivered and one message.read per message on the
// events stream after dedupe by id. Receipt latency (client frame → event on the stream) and
// duplicates before dedupe are printed with an [inbox-gw] prefix. Needs `turbo build` first.
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { eventNames, parseEvent, type AnyEvent } from '@herald/events';
import { connectWs, spawnService, startNatsServer, startWebhookReceiver, waitFor, type NatsServerHandle, type ServiceProcess, type WebhookReceiver, type WsTestClient } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse } from './sse-client.js';
import { mint, SECRET } from './helpers.js';

const GATEWAY_JS = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const API_JS = fileURLToPath(new URL('../../publish-api/dist/main.js', import.meta.url));
const HERALD_CLI = fileURLToPath(new URL('../../herald/dist/cli.js', import.meta.url));
const API_KEY = 'inbox-gw-api-key-5c2e9f7a1b3d';
const PREFIX = 'hib';
/** The history window the user stays away longer than. */
const HISTORY = { HERALD_HISTORY_SIZE: '2', HERALD_HISTORY_TTL_MS: '1000' };

interface InboxMsg { op: 'inbox'; seq: number; id: string; ts: number; state: string; data: unknown }
interface Listing { delivered: number; read: number; messages: { seq: number; state: string }[] }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tokenOf = (sub: string): string => mint({ sub });

class Backend {
  constructor(readonly base: string) {}
  async publish(users: string[], data: unknown, id?: string): Promise<{ ch: string; seq: number; id: string }[]> {
    const res = await fetch(`${this.base}/v1/publish`, {
      method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ users, inbox: true, data, ...(id === undefined ? {} : { id }) }),
    });
    const body = (await res.json()) as { results: { ch: string; seq: number; id: string }[] };
    if (res.status !== 200) throw new Error(`publish ${res.status} ${JSON.stringify(body)}`);
    return body.results;
  }
  async inbox(user: string): Promise<Listing> {
    const res = await fetch(`${this.base}/v1/users/${encodeURIComponent(user)}/inbox?limit=1000`, { headers: { authorization: `Bearer ${API_KEY}` } });
    return (await res.json()) as Listing;
  }
}

const inboxOf = (c: WsTestClient): InboxMsg[] => c.frames.filter((f) => (f.op as string) === 'inbox') as unknown as InboxMsg[];
const readsOf = (c: WsTestClient): { upTo: number; seqs?: number[] }[] => c.frames.filter((f) => (f.op as string) === 'read') as unknown as { upTo: number; seqs?: number[] }[];

async function receipt(c: WsTestClient, id: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const from = c.frames.length;
  c.send({ op: 'receipt', id, ...body });
  return (await c.waitFrame((f) => (f.op === 'ack' || f.op === 'err') && (f as { id?: unknown }).id === id, 10_000, from)) as unknown as Record<string, unknown>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

/** Every event of the prefix: `stored` from the stream (after its dedupe window), `published` every publish on the subject (before). */
async function watchEvents(nc: NatsConnection): Promise<{ stored: { e: AnyEvent; at: number }[]; published: AnyEvent[]; stop: () => Promise<void> }> {
  const names = eventNames(PREFIX);
  const stored: { e: AnyEvent; at: number }[] = [];
  const published: AnyEvent[] = [];
  const sub = nc.subscribe(`${PREFIX}.events.message.>`, { callback: (err, m) => { if (!err) { const e = parseEvent(m.string()); if (e) published.push(e); } } });
  await nc.flush();
  await waitFor(async () => (await jetstream(nc).streams.get(names.eventsStream).then(() => true, () => false)), 20_000);
  const consumer = await jetstream(nc).consumers.get(names.eventsStream, { deliver_policy: DeliverPolicy.New });
  const messages = await consumer.consume();
  void (async () => {
    for await (const m of messages) {
      const e = parseEvent(m.string());
      if (e?.type.startsWith('message.')) stored.push({ e, at: performance.now() });
    }
  })();
  return { stored, published, stop: async () => { sub.unsubscribe(); await messages.close(); } };
}

const userOfEvent = (e: AnyEvent): string => ('user' in e.data ? String(e.data.user) : '');
const seqOfEvent = (e: AnyEvent): number => ('seq' in e.data ? Number(e.data.seq) : -1);

describe('inbox on gateways and a publish API over NATS', () => {
  let nats: NatsServerHandle;
  let g1: ServiceProcess;
  let g2: ServiceProcess;
  let api: ServiceProcess;
  let backend: Backend;
  let nc: NatsConnection;
  const gwUrl = (g: ServiceProcess): string => `ws://127.0.0.1:${g.port}/v1/ws`;

  const startGateway = (env: Record<string, string> = {}): Promise<ServiceProcess> => spawnService({
    args: [GATEWAY_JS],
    env: {
      HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_NATS_URL: nats.url, HERALD_NATS_PREFIX: PREFIX,
      HERALD_INBOX: 'true', HERALD_EVENTS: 'true', HERALD_LOG_LEVEL: process.env['INBOX_GW_LOG'] ?? 'info', ...HISTORY, ...env,
    },
    timeoutMs: 40_000,
  });

  beforeAll(async () => {
    nats = await startNatsServer();
    [g1, g2, api] = await Promise.all([startGateway(), startGateway(), spawnService({
      args: [API_JS],
      env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: API_KEY, HERALD_NATS_URL: nats.url, HERALD_NATS_PREFIX: PREFIX, HERALD_JWT_SECRET: SECRET, HERALD_LOG_LEVEL: 'info', ...HISTORY },
      timeoutMs: 40_000,
    })]);
    backend = new Backend(`http://127.0.0.1:${api.port}`);
    nc = await connect({ servers: nats.url });
  }, 90_000);

  afterAll(async () => {
    await nc?.close();
    await Promise.all([g1, g2, api].map((p) => p?.kill()));
    await nats?.stop();
  });

  it('an offline user back after the history window gets every message once in order, then live ones without gap or duplicate at the seam', async () => {
    for (let round = 0; round < 5; round++) {
      const user = `away-${round}`;
      const before: number[] = [];
      for (let i = 0; i < 30; i++) before.push(...(await backend.publish([user], { n: i })).map((r) => r.seq));
      await sleep(1200); // past HERALD_HISTORY_TTL_MS: only the inbox still has them
      // Publish while connecting: the seam sees appends during its read.
      const during: number[] = [];
      let publishing = true;
      const loop = (async () => {
        for (let i = 0; publishing || i < 5; i++) during.push(...(await backend.publish([user], { live: i })).map((r) => r.seq));
      })();
      const c = await connectWs(gwUrl(round % 2 === 0 ? g1 : g2), { token: tokenOf(user) });
      await waitFor(() => inboxOf(c).length >= 30, 10_000);
      publishing = false;
      await loop;
      const all = [...before, ...during];
      await waitFor(() => inboxOf(c).length >= all.length, 10_000);
      await sleep(100); // any duplicate would have arrived by now
      const seqs = inboxOf(c).map((m) => m.seq);
      expect(seqs).toEqual(all);
      expect(inboxOf(c).slice(0, 30).map((m) => m.data)).toEqual(Array.from({ length: 30 }, (_, i) => ({ n: i })));
      expect(c.frames[0]?.op).toBe('welcome');
      c.ws.close();
      console.log(`[inbox-gw] round ${round}: ${before.length} stored while offline + ${during.length} published during connect → ${seqs.length} received, 0 duplicates`);
    }
  }, 120_000);

  it('two devices: delivered shows in the listing, read on one reaches the other, one event per transition after dedupe; receipt latency', async () => {
    const events = await watchEvents(nc);
    const user = 'two-devices';
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(...(await backend.publish([user], { i }, `msg-${i}`)).map((r) => r.seq));
    const a = await connectWs(gwUrl(g1), { token: tokenOf(user) });
    const b = await connectWs(gwUrl(g2), { token: tokenOf(user) });
    await waitFor(() => inboxOf(a).length === 40 && inboxOf(b).length === 40, 10_000);

    // Single-message receipts from device A, one at a time: frame sent → event stored on the stream.
    const latencies: number[] = [];
    for (const seq of seqs) {
      const t0 = performance.now();
      const from = events.stored.length;
      // Device B acknowledges the same messages at the same moment (multi-device race).
      const [ack] = await Promise.all([receipt(a, `d${seq}`, { status: 'delivered', upTo: seq }), receipt(b, `bd${seq}`, { status: 'delivered', seqs: [seq] })]);
      expect(ack.op).toBe('ack');
      await waitFor(() => events.stored.slice(from).some((s) => s.e.type === 'message.delivered' && seqOfEvent(s.e) === seq && userOfEvent(s.e) === user), 10_000);
      const hit = events.stored.slice(from).find((s) => s.e.type === 'message.delivered' && seqOfEvent(s.e) === seq);
      latencies.push((hit?.at ?? NaN) - t0);
    }
    const listing = await backend.inbox(user);
    expect(listing.delivered).toBe(seqs[seqs.length - 1]);
    expect(listing.messages.every((m) => m.state === 'delivered')).toBe(true);

    // Read: half one by one, then the rest cumulatively, on device A; device B hears each, A none.
    const half = seqs.slice(0, 20);
    for (const seq of half) expect((await receipt(a, `r${seq}`, { status: 'read', seqs: [seq] })).op).toBe('ack');
    expect((await receipt(a, 'rall', { status: 'read', upTo: seqs[seqs.length - 1] })).op).toBe('ack');
    await waitFor(() => readsOf(b).some((r) => r.upTo === seqs[seqs.length - 1]), 10_000);
    expect(readsOf(a)).toEqual([]);
    const readByB = new Set<number>();
    for (const r of readsOf(b)) {
      for (const s of seqs) if (s <= r.upTo) readByB.add(s);
      for (const s of r.seqs ?? []) readByB.add(s);
    }
    expect(readByB.size).toBe(40);
    // Acknowledging again changes nothing.
    expect((await receipt(b, 'again', { status: 'read', upTo: seqs[seqs.length - 1] })).op).toBe('ack');
    expect((await receipt(b, 'bad', { status: 'seen', upTo: 1 })).code).toBe('invalid');
    expect((await backend.inbox(user)).read).toBe(seqs[seqs.length - 1]);

    await waitFor(() => events.stored.filter((s) => userOfEvent(s.e) === user && s.e.type === 'message.read').length >= 40, 10_000);
    await sleep(500);
    const mine = events.stored.filter((s) => userOfEvent(s.e) === user);
    const distinct = new Map(mine.map((s) => [s.e.id, s.e]));
    for (const type of ['message.delivered', 'message.read'] as const) {
      const perSeq = [...distinct.values()].filter((e) => e.type === type).map(seqOfEvent).sort((x, y) => x - y);
      expect(perSeq).toEqual(seqs);
    }
    const before = events.published.filter((e) => userOfEvent(e) === user).length;
    await events.stop();
    const sorted = [...latencies].sort((x, y) => x - y);
    console.log(`[inbox-gw] receipts: 80 transitions, ${before} events published before dedupe (${before - 80} duplicates), ${mine.length} stored, ${distinct.size} distinct ids`);
    console.log(`[inbox-gw] receipt latency (client frame → event on the stream), ${sorted.length} single-message delivered receipts: p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p90 ${percentile(sorted, 0.9).toFixed(1)} ms, p99 ${percentile(sorted, 0.99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)} ms`);
    a.ws.close();
    b.ws.close();
  }, 120_000);

  it('SSE: inbox events carry the position in the event id, receipts by POST /v1/inbox/receipts', async () => {
    const user = 'sse-user';
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(...(await backend.publish([user], { i })).map((r) => r.seq));
    const base = `http://127.0.0.1:${g1.port}`;
    const s = await connectSse(`${base}/v1/sse`, { token: tokenOf(user) });
    await s.waitEvent(() => s.of('inbox').length === 5, 10_000);
    expect(s.of('inbox').map((e) => e.json?.['seq'])).toEqual(seqs);
    const last = s.of('inbox')[4]!;
    const id = JSON.parse(Buffer.from(last.id.slice(last.id.indexOf('~') + 1), 'base64url').toString()) as Record<string, number>;
    expect(id[`inbox:${user}`]).toBe(seqs[4]);
    const post = (body: unknown, token = tokenOf(user)): Promise<Response> => fetch(`${base}/v1/inbox/receipts`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    expect((await post({ status: 'read', upTo: seqs[2] })).status).toBe(204);
    expect((await post({ status: 'read' })).status).toBe(400);
    expect((await post({ status: 'read', upTo: 1 }, 'nope')).status).toBe(401);
    expect((await backend.inbox(user)).read).toBe(seqs[2]);
    s.close();
    // Resuming with the event id: only what is after it and unread.
    seqs.push(...(await backend.publish([user], { i: 5 })).map((r) => r.seq));
    const again = await connectSse(`${base}/v1/sse`, { token: tokenOf(user), lastEventId: last.id });
    await again.waitEvent(() => again.of('inbox').length >= 1, 10_000);
    await sleep(200);
    expect(again.of('inbox').map((e) => e.json?.['seq'])).toEqual([seqs[5]]);
    again.close();
  }, 60_000);

  it('CORS of POST /v1/inbox/receipts: an allowed origin gets its headers (Retry-After readable) and a preflight 204; another origin is answered without them', async () => {
    const app = 'https://app.example.com';
    const gw = await startGateway({ HERALD_ALLOWED_ORIGINS: app });
    try {
      const url = `http://127.0.0.1:${gw.port}/v1/inbox/receipts`;
      const upTo: Record<string, number> = {};
      for (const user of ['cors-user', 'cors-other']) upTo[user] = (await backend.publish([user], { cors: true }))[0]!.seq;
      /** Status and the CORS headers of one answer (its body read, so the connection is free again). */
      const cors = async (res: Response): Promise<{ status: number; headers: Record<string, string | null> }> => {
        await res.arrayBuffer();
        const names = ['access-control-allow-origin', 'vary', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'access-control-allow-credentials', 'retry-after'];
        return { status: res.status, headers: Object.fromEntries(names.map((n) => [n, res.headers.get(n)])) };
      };
      const post = (origin: string | undefined, user: string, token = tokenOf(user)): Promise<Response> => fetch(url, {
        method: 'POST',
        headers: { ...(origin === undefined ? {} : { origin }), authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'delivered', upTo: upTo[user] }),
      });
      const preflight = (origin: string): Promise<Response> =>
        fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
      const allowed = { 'access-control-allow-origin': app, vary: 'origin', 'access-control-expose-headers': 'retry-after' };
      const none = {
        'access-control-allow-origin': null, vary: null, 'access-control-expose-headers': null, 'access-control-allow-methods': null,
        'access-control-allow-headers': null, 'access-control-max-age': null, 'access-control-allow-credentials': null,
      };

      // Allowed origin: the preflight, then every answer (a refusal too) readable by the page.
      expect(await cors(await preflight(app))).toEqual({
        status: 204,
        headers: {
          ...allowed, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'authorization, content-type',
          'access-control-max-age': '600', 'access-control-allow-credentials': null, 'retry-after': null,
        },
      });
      expect(await cors(await post(app, 'cors-user'))).toMatchObject({ status: 204, headers: { ...allowed, 'access-control-allow-methods': null, 'access-control-allow-credentials': null } });
      expect(await cors(await post(app, 'cors-user', 'nope'))).toMatchObject({ status: 401, headers: allowed });
      // Over the per-user rate (burst 20): the 429s carry Retry-After, exposed to the page.
      const burst = await Promise.all(Array.from({ length: 40 }, async () => cors(await post(app, 'cors-user'))));
      const limited = burst.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(burst.every((r) => r.status === 204 || r.status === 429)).toBe(true);
      for (const r of limited) expect(r.headers).toMatchObject({ ...allowed, 'retry-after': '1' });

      // Another origin: answered as without Origin (no 403), with no CORS header at all; the preflight too.
      expect(await cors(await preflight('https://evil.example.com'))).toMatchObject({ status: 204, headers: none });
      expect(await cors(await post('https://evil.example.com', 'cors-other'))).toMatchObject({ status: 204, headers: none });
      expect(await cors(await post('https://evil.example.com', 'cors-other', 'nope'))).toMatchObject({ status: 401, headers: none });
      // No Origin (not a browser): none either.
      expect(await cors(await post(undefined, 'cors-other'))).toMatchObject({ status: 204, headers: none });
      expect((await backend.inbox('cors-other')).delivered).toBe(upTo['cors-other']);
    } finally {
      await gw.kill();
    }
  }, 60_000);

  it('a gateway SIGKILLed mid-delivery: the user reconnects to another gateway and nothing is lost', async () => {
    const victim = await startGateway();
    const user = 'fault-user';
    const published: number[] = [];
    let publishing = true;
    const loop = (async () => {
      for (let i = 0; publishing; i++) {
        published.push(...(await backend.publish([user], { i })).map((r) => r.seq));
        if (i < 100) continue; // a backlog first, then a steady flow
        await sleep(2);
      }
    })();
    await waitFor(() => published.length >= 100, 20_000);
    const c1 = await connectWs(`ws://127.0.0.1:${victim.port}/v1/ws`, { token: tokenOf(user) });
    // The app acknowledges `delivered` as it goes (the SDK's auto-delivered), every 10 messages.
    let acked = 0;
    const ackTimer = setInterval(() => {
      const got = inboxOf(c1);
      const last = got[got.length - 1]?.seq ?? 0;
      if (got.length - acked >= 10) {
        acked = got.length;
        c1.send({ op: 'receipt', id: `a${last}`, status: 'delivered', upTo: last });
      }
    }, 5);
    await waitFor(() => inboxOf(c1).length >= 150, 20_000);
    clearInterval(ackTimer);
    await victim.kill(); // SIGKILL, mid-flow
    const got1 = inboxOf(c1).map((m) => m.seq);
    // The SDK reconnects with ?inbox=<last seq it holds>; a client that lost its memory starts from 0.
    const resume = got1[got1.length - 1] ?? 0;
    const c2 = await connectWs(gwUrl(g2), { token: tokenOf(user), query: { inbox: String(resume) } });
    const c3 = await connectWs(gwUrl(g1), { token: tokenOf(user) }); // from scratch: every unread one again
    await sleep(300);
    publishing = false;
    await loop;
    await waitFor(() => new Set([...got1, ...inboxOf(c2).map((m) => m.seq)]).size >= published.length, 20_000);
    await waitFor(() => inboxOf(c3).length > 0 && inboxOf(c3)[inboxOf(c3).length - 1]!.seq === published[published.length - 1], 20_000);
    const got2 = inboxOf(c2).map((m) => m.seq);
    const union = [...new Set([...got1, ...got2])].sort((x, y) => x - y);
    expect(union).toEqual(published);
    const dupResume = got1.length + got2.length - union.length;
    const got3 = inboxOf(c3).map((m) => m.seq);
    expect(new Set(got3).size).toBe(got3.length);
    expect(got3).toEqual(published.filter((s) => s >= got3[0]!));
    console.log(`[inbox-gw] fault: ${published.length} published, ${got1.length} received before SIGKILL, ${got2.length} after resume with ?inbox=${resume} on another gateway: 0 lost, ${dupResume} duplicates; a fresh connection got ${got3.length} (every unread one, in order), 0 lost`);
    c1.ws.terminate();
    c2.ws.close();
    c3.ws.close();
  }, 120_000);
});

describe('inbox on herald dev (one process, memory)', () => {
  let dev: ServiceProcess;
  let backend: Backend;
  let hooks: WebhookReceiver;
  /** Webhook deliveries: the event and its webhook-id header. */
  const delivered = (): { id: string; event: AnyEvent }[] =>
    hooks.received.flatMap((r) => {
      const event = parseEvent(r.body);
      return event ? [{ id: r.id, event }] : [];
    });
  beforeAll(async () => {
    hooks = await startWebhookReceiver();
    const hookUrl = hooks.url;
    dev = await spawnService({
      args: [HERALD_CLI, 'dev'],
      env: {
        HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_EVENTS: 'true', ...HISTORY,
        HERALD_WEBHOOK_URLS: hookUrl, HERALD_WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 7).toString('base64'),
      },
      timeoutMs: 30_000,
    });
    backend = new Backend(`http://127.0.0.1:${dev.port}`);
  }, 40_000);
  afterAll(async () => {
    await dev?.kill();
    await hooks?.close();
  });

  it('offline user gets every message once in order then live; delivered and read sync across two devices', async () => {
    const user = 'dev-user-inbox';
    const url = `ws://127.0.0.1:${dev.port}/v1/ws`;
    const before: number[] = [];
    for (let i = 0; i < 20; i++) before.push(...(await backend.publish([user], { i })).map((r) => r.seq));
    await sleep(1200);
    const during: number[] = [];
    let publishing = true;
    const loop = (async () => {
      for (let i = 0; publishing || i < 5; i++) during.push(...(await backend.publish([user], { live: i })).map((r) => r.seq));
    })();
    const a = await connectWs(url, { token: tokenOf(user) });
    await waitFor(() => inboxOf(a).length >= 20, 10_000);
    publishing = false;
    await loop;
    const all = [...before, ...during];
    await waitFor(() => inboxOf(a).length >= all.length, 10_000);
    await sleep(100);
    expect(inboxOf(a).map((m) => m.seq)).toEqual(all);

    const b = await connectWs(url, { token: tokenOf(user) });
    await waitFor(() => inboxOf(b).length === all.length, 10_000);
    const last = all[all.length - 1]!;
    expect((await receipt(a, 'd', { status: 'delivered', upTo: last })).op).toBe('ack');
    expect((await backend.inbox(user)).delivered).toBe(last);
    expect((await receipt(a, 'r', { status: 'read', upTo: last })).op).toBe('ack');
    await b.waitFrame((f) => (f.op as string) === 'read' && (f as unknown as { upTo: number }).upTo === last, 5000);
    expect(readsOf(a)).toEqual([]);
    expect((await backend.inbox(user)).read).toBe(last);
    // Nothing unread any more: a new device gets no inbox frame.
    const c = await connectWs(url, { token: tokenOf(user) });
    await sleep(300);
    expect(inboxOf(c)).toEqual([]);
    // The backend's webhook: one message.delivered and one message.read per message after dedupe by webhook-id.
    const mine = (): { id: string; event: AnyEvent }[] => delivered().filter((d) => d.event.type.startsWith('message.') && userOfEvent(d.event) === user);
    await waitFor(() => new Set(mine().map((d) => d.id)).size >= 2 * all.length, 15_000, 'webhooks');
    await sleep(300);
    const byId = new Map(mine().map((d) => [d.id, d.event]));
    for (const type of ['message.delivered', 'message.read'] as const) {
      expect([...byId.values()].filter((e) => e.type === type).map(seqOfEvent).sort((x, y) => x - y)).toEqual(all);
    }
    console.log(`[inbox-gw] herald dev: ${2 * all.length} transitions, ${mine().length} webhook deliveries (${mine().length - byId.size} duplicates before dedupe), ${byId.size} distinct ids`);
    for (const x of [a, b, c]) x.ws.close();
  }, 60_000);
});
