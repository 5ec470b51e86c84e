// @herald/server on a NATS deployment (a gateway and a publish API as separate `herald`
// processes on a nats-server started here), and a publish made while NATS is down: the API
// answers 503, the SDK retries with the same id, NATS comes back, the message is stored once.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, spawnService, startNatsServer, type NatsServerHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';
import { HeraldServer, type RetryInfo } from '../src/index.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
const SECRET = 'server-sdk-nats-secret-0123456789abcdef';
const API_KEY = 'server-sdk-nats-api-key-0123456789';

describe('@herald/server on NATS', () => {
  let nats: NatsServerHandle;
  let gw: ServiceProcess;
  let api: ServiceProcess;
  let ws: WsTestClient | undefined;

  beforeAll(async () => {
    nats = await startNatsServer();
    const env = { HERALD_NATS_URL: nats.url, HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0' };
    [gw, api] = await Promise.all([
      spawnService({ args: [CLI, 'gateway'], env: { ...env, HERALD_NODE_ID: 'gw-1' } }),
      spawnService({ args: [CLI, 'publish-api'], env: { ...env, HERALD_NODE_ID: 'api-1' } }),
    ]);
  });
  afterAll(async () => {
    ws?.terminate();
    await Promise.all([gw?.kill(), api?.kill()]);
    await nats?.stop();
  });

  it('publishes, reads history and presence across processes', async () => {
    const herald = new HeraldServer({ url: `http://127.0.0.1:${api.port}`, apiKey: API_KEY, jwtSecret: SECRET });
    ws = await connectWs(`ws://127.0.0.1:${gw.port}/v1/ws`, { token: await herald.mintToken({ sub: 'ann', topics: ['news'] }) });
    await ws.request({ op: 'sub', id: 1, topics: ['news'] });
    const r = await herald.publish({ topic: 'news', data: { n: 1 } });
    const [m] = await ws.waitMessages('topic:news', 1);
    expect(m).toMatchObject({ seq: r.results[0]!.seq, id: r.id, data: { n: 1 } });
    expect(await herald.presence({ user: 'ann' })).toEqual({ user: 'ann', connections: 1 });
    const page = await herald.history({ ch: 'topic:news' });
    expect(page.messages.map((x) => x.id)).toEqual([r.id]);
  });

  it('retries a publish through a NATS outage with the same id and stores it once', async () => {
    const retries: RetryInfo[] = [];
    let restarted: Promise<void> | undefined;
    const herald = new HeraldServer({
      url: `http://127.0.0.1:${api.port}`,
      apiKey: API_KEY,
      timeoutMs: 5000,
      retry: { maxAttempts: 30, maxElapsedMs: 45_000, baseDelayMs: 100, maxDelayMs: 1000 },
      onRetry: (info) => {
        retries.push(info);
        restarted ??= nats.restart(); // NATS comes back once the SDK has seen the outage
      },
    });
    await nats.kill();
    const r = await herald.publish({ topic: 'outage', data: { during: 'outage' } });
    await restarted;
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatchObject({ attempt: 1 });
    expect(['bus_unavailable', 'timeout']).toContain(retries[0]!.reason);
    expect(r.results).toEqual([{ ch: 'topic:outage', seq: expect.any(Number) }]);
    const page = await herald.history({ ch: 'topic:outage' });
    expect(page.messages.map((x) => [x.id, x.data])).toEqual([[r.id, { during: 'outage' }]]);
  }, 60_000);
});
