// NATS-mode smoke test: the gateway on a NatsBus, a separate publisher connection, a real nats-server with JetStream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBus, type Bus } from '@herald/bus';
import { connectWs, startNatsServer, waitFor, type NatsServerHandle, type WsTestClient } from '@herald/testkit';
import { mint, startTestGateway, type TestGateway } from './helpers.js';

let nats: NatsServerHandle;
let publisher: Bus;
let gw: TestGateway;
const clients: WsTestClient[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  const history = { maxPerChannel: 1000, maxAgeMs: 3_600_000 };
  const [gwBus, pubBus] = await Promise.all([
    openBus({ natsUrl: nats.url, history, name: 'gw-test' }),
    openBus({ natsUrl: nats.url, history, name: 'publisher' }),
  ]);
  publisher = pubBus;
  gw = await startTestGateway({ NATS_URL: nats.url, CANARY_INTERVAL_MS: '200', UNSUBSCRIBE_LINGER_MS: '0' }, gwBus);
});
afterAll(async () => {
  for (const c of clients) c.terminate();
  await gw?.close();
  await publisher?.close();
  await nats?.stop();
});

async function open(sub: string, query?: Record<string, string>): Promise<WsTestClient> {
  const c = await connectWs(gw.url, { token: mint({ sub }), ...(query ? { query } : {}) });
  clients.push(c);
  return c;
}

async function publish(channel: string, data: unknown): Promise<number> {
  return (await publisher.publish({ channel, data: JSON.stringify(data) })).seq;
}

describe('gateway on NATS', () => {
  it('turns ready once the canary came back', async () => {
    await waitFor(async () => (await fetch(`${gw.httpUrl}/readyz`)).status === 200, 10_000, 'readyz 200');
    const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
    expect(Number(/^herald_canary_seconds_count(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
  });

  it('delivers topic and personal messages published by another connection, live once acked', async () => {
    const c = await open('nina');
    expect(await c.request({ op: 'sub', id: 1, topics: ['news'] })).toMatchObject({ results: { 'topic:news': { ok: true } } });
    const s1 = await publish('topic:news', { a: 1 });
    const s2 = await publish('topic:news', { a: 2 });
    const u1 = await publish('user:nina', { dm: 1 });
    const msgs = await c.waitMessages('topic:news', 2);
    expect(msgs.map((m) => [m.seq, m.prev])).toEqual([[s1, expect.any(Number)], [s2, s1]]);
    expect((await c.waitMessages('user:nina', 1))[0]).toMatchObject({ seq: u1, data: { dm: 1 } });
  });

  it('recovers the personal channel across a reconnect', async () => {
    const a = await open('omar');
    const first = await publish('user:omar', 0);
    await a.waitMessages('user:omar', 1);
    await a.close();
    const missed = [await publish('user:omar', 1), await publish('user:omar', 2), await publish('user:omar', 3)];
    const b = await open('omar', { since: String(first), epoch: (a.frames[0] as { epoch: string }).epoch });
    expect(b.frames[0]).toMatchObject({ op: 'welcome', recovered: true });
    const got = await b.waitMessages('user:omar', 3);
    expect(got.map((m) => m.seq)).toEqual(missed);
  });

  it('closes a user everywhere through bus.disconnect', async () => {
    const c = await open('pia');
    await waitFor(async () => (await publisher.presence({ user: 'pia' })) === 1, 5000, 'presence 1');
    expect(await publisher.disconnect('pia', 4003, 'bye')).toBe(1);
    expect(await c.closed).toEqual({ code: 4003, reason: 'bye' });
  });
});

describe('gateway metrics on NATS', () => {
  it('observes the delivery latency once per delivered message', async () => {
    const [a, b] = [await open('lat-a'), await open('lat-b')];
    for (const c of [a, b]) expect(await c.request({ op: 'sub', id: 1, topics: ['orders.latency'] })).toMatchObject({ results: { 'topic:orders.latency': { ok: true } } });
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
      return Number(/^herald_delivery_latency_seconds_count(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
    };
    const before = await count();
    await publish('topic:orders.latency', 1);
    await Promise.all([a.waitMessages('topic:orders.latency', 1), b.waitMessages('topic:orders.latency', 1)]);
    // Two recipients, one observation.
    expect(await count()).toBe(before + 1);
  });

  // Last: it kills the server (restarted after, so afterAll stops it as usual).
  it('shows the NATS connection state as herald_bus_connected', async () => {
    expect(await gw.metric('herald_bus_connected')).toBe(1);
    await nats.kill();
    await waitFor(async () => (await gw.metric('herald_bus_connected')) === 0, 15_000, 'herald_bus_connected 0');
    await nats.restart();
    await waitFor(async () => (await gw.metric('herald_bus_connected')) === 1, 20_000, 'herald_bus_connected 1');
  });
});
