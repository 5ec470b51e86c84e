// client.inbox through a gateway SIGKILL (docs/sdk.md#inbox): two gateway processes and a
// publish API on a real nats-server, the SDK behind a TCP proxy whose target moves to the
// second gateway when the first is killed mid-flow. Every inbox message reaches the app once, in
// order (the SDK drops the seqs the gateway sends again after the reconnect; counted and printed
// with an [inbox-sdk] prefix), and the auto-`delivered` receipts reach the store. Needs `turbo build`.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '@herald/auth';
import { spawnService, startNatsServer, waitFor, type NatsServerHandle, type ServiceProcess } from '@herald/testkit';
import { HeraldClient } from '../src/inbox.js';
import { API_KEY, SECRET } from './helpers/servers.js';
import { TcpProxy } from './helpers/proxy.js';

const GATEWAY_JS = resolve(import.meta.dirname, '../../../services/gateway/dist/main.js');
const API_JS = resolve(import.meta.dirname, '../../../services/publish-api/dist/main.js');
const PREFIX = 'hsdk';

let nats: NatsServerHandle;
let g1: ServiceProcess;
let g2: ServiceProcess;
let api: ServiceProcess;
let proxy: TcpProxy;

const gateway = (): Promise<ServiceProcess> => spawnService({
  args: [GATEWAY_JS],
  env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_NATS_URL: nats.url, HERALD_NATS_PREFIX: PREFIX, HERALD_INBOX: 'true', HERALD_LOG_LEVEL: 'info' },
  timeoutMs: 40_000,
});

beforeAll(async () => {
  nats = await startNatsServer();
  [g1, g2, api] = await Promise.all([gateway(), gateway(), spawnService({
    args: [API_JS],
    env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: API_KEY, HERALD_NATS_URL: nats.url, HERALD_NATS_PREFIX: PREFIX, HERALD_JWT_SECRET: SECRET, HERALD_LOG_LEVEL: 'info' },
    timeoutMs: 40_000,
  })]);
  proxy = await TcpProxy.start(g1.port);
}, 90_000);

afterAll(async () => {
  await proxy?.close();
  await Promise.all([g1, g2, api].map((p) => p?.kill()));
  await nats?.stop();
});

describe('client.inbox across a gateway SIGKILL', () => {
  it('every message once and in order to the app, duplicates on the wire dropped by seq', async () => {
    const user = 'sdk-fault';
    const token = await signToken({ secret: SECRET, sub: user, topics: ['>'], ttlSec: 600 });
    const base = `http://127.0.0.1:${api.port}`;
    const published: number[] = [];
    let publishing = true;
    const loop = (async () => {
      for (let i = 0; publishing; i++) {
        const res = await fetch(`${base}/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ user, inbox: true, data: { i } }) });
        published.push(((await res.json()) as { results: { seq: number }[] }).results[0]!.seq);
        if (i >= 50) await new Promise((r) => setTimeout(r, 3));
      }
    })();
    let wire = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        this.on('message', (d: Buffer) => {
          if (d.toString().startsWith('{"op":"inbox"')) wire++;
        });
      }
    }
    const client = new HeraldClient({ url: proxy.url, token, WebSocket: CountingWebSocket, minReconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    const got: number[] = [];
    client.inbox.on('message', (m) => got.push(m.seq));
    client.connect();
    await waitFor(() => got.length >= 120, 20_000);
    proxy.target = g2.port;
    await g1.kill();
    const atKill = got.length;
    await waitFor(() => client.state === 'connected' && got.length >= 200, 20_000, 'reconnected and more delivered');
    publishing = false;
    await loop;
    await waitFor(() => got.length >= published.length, 20_000);
    expect(got).toEqual(published);
    const last = published[published.length - 1];
    await waitFor(async () => {
      const l = (await (await fetch(`${base}/v1/users/${user}/inbox`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { delivered: number };
      return l.delivered === last;
    }, 10_000, 'auto-delivered up to the last');
    console.log(`[inbox-sdk] ${published.length} published, gateway SIGKILLed after ${atKill} handed over; ${wire} inbox frames on the wire, ${wire - got.length} duplicates dropped by the SDK, ${got.length} handed to the app once each, in order, 0 lost`);
    client.close();
  }, 90_000);
});
