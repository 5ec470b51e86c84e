// Two Herald installs on ONE nats-server, as two Helm releases sharing a NATS cluster would
// run: each a gateway and a publish API process with its own HERALD_NATS_PREFIX and
// HERALD_NATS_STREAM. Messages, presence and disconnect requests stay inside their install;
// a third install that reuses a stream name with another prefix refuses to start.
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { openBus } from '@herald/bus';
import { connectWs, startNatsServer, type NatsServerHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { setupOnce, startRoles } from './helpers.js';

const SECRET = 'shared-nats-test-secret-0123456789';
const API_KEY = 'shared-nats-test-api-key-0123456789';

interface Install {
  readonly name: string;
  readonly gateway: ServiceProcess;
  readonly api: ServiceProcess;
  readonly wsUrl: string;
  readonly apiUrl: string;
}

async function startInstall(nats: NatsServerHandle, name: string, prefix: string, stream: string): Promise<Install> {
  const common = {
    HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'info',
    HERALD_NATS_URL: nats.url, HERALD_NATS_PREFIX: prefix, HERALD_NATS_STREAM: stream,
  };
  const { gateway, api } = await startRoles(
    { ...common, HERALD_NODE_ID: `${name}-gw`, HERALD_JWT_SECRET: SECRET },
    { ...common, HERALD_NODE_ID: `${name}-api`, HERALD_API_KEYS: API_KEY },
  );
  return { name, gateway, api, wsUrl: `ws://127.0.0.1:${gateway.port}/v1/ws`, apiUrl: `http://127.0.0.1:${api.port}` };
}

async function call(install: Install, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(install.apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status, `${install.name} ${method} ${path}`).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function subscriber(install: Install, user: string): Promise<WsTestClient> {
  const client = await connectWs(install.wsUrl, { token: await signToken({ secret: SECRET, sub: user, topics: ['news'] }) });
  await client.waitFrame((f) => f.op === 'welcome');
  client.send({ op: 'sub', id: 1, topics: ['news'] });
  await client.waitFrame((f) => f.op === 'ack');
  return client;
}

describe('two installs on one nats-server', () => {
  let nats: NatsServerHandle | undefined;
  const started: ServiceProcess[] = [];
  const clients: WsTestClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await Promise.all(started.map((p) => p.kill()));
    await nats?.stop();
  });

  const bed = setupOnce(async () => {
    nats = await startNatsServer();
    const a = await startInstall(nats, 'a', 'acme.herald', 'HERALD_ACME');
    const b = await startInstall(nats, 'b', 'globex', 'HERALD_GLOBEX');
    started.push(a.gateway, a.api, b.gateway, b.api);
    // The same user and topic in both installs.
    const onA = await subscriber(a, 'u1');
    const onB = await subscriber(b, 'u1');
    clients.push(onA, onB);
    return { nats, a, b, onA, onB };
  }, 60_000);

  it('keeps subjects apart: each stream holds only its prefix', async () => {
    const { nats: server } = bed();
    const nc = await connect({ servers: server.url });
    try {
      const res = await nc.request('$JS.API.STREAM.NAMES', '{}', { timeout: 5000 });
      expect((JSON.parse(res.string()) as { streams: string[] }).streams.sort()).toEqual(['HERALD_ACME', 'HERALD_GLOBEX']);
      const info = async (name: string): Promise<{ subjects: string[]; republish: { src: string; dest: string } }> =>
        (JSON.parse((await nc.request(`$JS.API.STREAM.INFO.${name}`, '{}', { timeout: 5000 })).string()) as { config: { subjects: string[]; republish: { src: string; dest: string } } }).config;
      expect(await info('HERALD_ACME')).toMatchObject({ subjects: ['acme.herald.in.>'], republish: { src: 'acme.herald.in.>', dest: 'acme.herald.out.>' } });
      expect(await info('HERALD_GLOBEX')).toMatchObject({ subjects: ['globex.in.>'], republish: { src: 'globex.in.>', dest: 'globex.out.>' } });
    } finally {
      await nc.close();
    }
  });

  it('delivers a message only inside the install it was published to', async () => {
    const { a, b, onA, onB } = bed();
    await call(a, 'POST', '/v1/publish', { topic: 'news', data: { from: 'a' } });
    const [gotA] = await onA.waitMessages('topic:news', 1);
    expect(gotA?.data).toEqual({ from: 'a' });
    // B publishes after A's message was delivered: B's client sees B's message only (a leak
    // of A's message, sent earlier through the same server, would have arrived first).
    await call(b, 'POST', '/v1/publish', { topic: 'news', data: { from: 'b' } });
    const gotB = await onB.waitMessages('topic:news', 1);
    expect(gotB.map((m) => m.data)).toEqual([{ from: 'b' }]);
    await call(a, 'POST', '/v1/publish', { user: 'u1', data: { to: 'a-user' } });
    await onA.waitMessages('user:u1', 1);
    await call(b, 'POST', '/v1/publish', { user: 'u1', data: { to: 'b-user' } });
    expect((await onB.waitMessages('user:u1', 1)).map((m) => m.data)).toEqual([{ to: 'b-user' }]);
    expect(onA.ofOp('msg').map((m) => m.data)).toEqual([{ from: 'a' }, { to: 'a-user' }]);
    expect(onB.ofOp('msg').map((m) => m.data)).toEqual([{ from: 'b' }, { to: 'b-user' }]);
  });

  it('answers presence from its own gateways only', async () => {
    const { a, b } = bed();
    expect(await call(a, 'GET', '/v1/presence?user=u1')).toMatchObject({ connections: 1 });
    expect(await call(b, 'GET', '/v1/presence?user=u1')).toMatchObject({ connections: 1 });
    expect(await call(a, 'GET', '/v1/presence?topic=news')).toMatchObject({ subscribers: 1 });
  });

  it('disconnects a user in its own install only', async () => {
    const { a, b, onA, onB } = bed();
    expect(await call(a, 'POST', '/v1/disconnect', { user: 'u1', code: 4003, reason: 'bye' })).toEqual({ disconnected: 1 });
    expect((await onA.closed).code).toBe(4003);
    // B's client is still connected and still served.
    await call(b, 'POST', '/v1/publish', { topic: 'news', data: { after: 'disconnect' } });
    expect((await onB.waitMessages('topic:news', 2)).at(-1)?.data).toEqual({ after: 'disconnect' });
    expect(onB.closeInfo).toBeUndefined();
    expect(await call(b, 'GET', '/v1/presence?user=u1')).toMatchObject({ connections: 1 });
  });

  it("refuses to take over another install's stream", async () => {
    const { nats: server } = bed();
    const err: unknown = await openBus({ natsUrl: server.url, stream: 'HERALD_ACME', prefix: 'initech', timeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const cause = (err as Error & { cause?: Error }).cause;
    expect(cause?.message).toMatch(/stream HERALD_ACME holds acme\.herald\.in\.>, not initech\.in\.>: give each install .* its own HERALD_NATS_STREAM/);
    // The stream still holds A's subjects.
    const nc = await connect({ servers: server.url });
    try {
      const info = JSON.parse((await nc.request('$JS.API.STREAM.INFO.HERALD_ACME', '{}', { timeout: 5000 })).string()) as { config: { subjects: string[] } };
      expect(info.config.subjects).toEqual(['acme.herald.in.>']);
    } finally {
      await nc.close();
    }
  });
});
