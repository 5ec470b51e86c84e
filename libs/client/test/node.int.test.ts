// The SDK in Node 20 against a real `herald dev`: over WebSocket with the `ws` package, and
// over SSE with Node's fetch (Node 20 has no global WebSocket: without the option, SSE is used).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '@herald/auth';
import { HeraldClient, type HeraldMessage } from '@herald/client';
import { spawnService, waitFor, type ServiceProcess } from '@herald/testkit';
import { API_KEY, SECRET, publish } from './helpers/servers.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');

let dir: string;
let dev: ServiceProcess;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-node-sdk-'));
  dev = await spawnService({
    args: [CLI, 'dev'],
    env: { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY },
    cwd: dir,
  });
  url = `http://127.0.0.1:${dev.port}`;
});
afterAll(async () => {
  await dev?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('@herald/client in Node', () => {
  it.each([
    ['websocket', { WebSocket }],
    // Node 22+ has a global WebSocket, so SSE is asked for by name.
    ['sse', { transports: ['sse'] }],
  ] as const)('%s: subscribes and receives topic and user messages', async (transport, extra) => {
    const sub = `node-${transport}`;
    const token = await signToken({ secret: SECRET, sub, topics: ['>'], ttlSec: 600 });
    const client = new HeraldClient({ url, token, ...extra });
    const got: HeraldMessage[] = [];
    client.on('user', (m) => got.push(m));
    const s = client.subscribe('node-news', (m) => got.push(m));
    client.connect();
    await s.ready;
    expect(client.transport).toBe(transport);
    const a = await publish(url, { topic: 'node-news' }, 1);
    const b = await publish(url, { user: sub }, 2);
    await waitFor(() => got.length >= 2, 5000, 'two messages');
    expect(got.map((m) => [m.ch, m.seq, m.data])).toEqual([[a.ch, a.seq, { n: 1 }], [b.ch, b.seq, { n: 2 }]]);
    client.close();
    expect(client.state).toBe('closed');
  });
});

describe('@herald/client in Node: a node at its upgrade rate', () => {
  let limited: ServiceProcess | undefined;
  afterAll(async () => {
    await limited?.kill();
  });

  it('waits out Retry-After on a 503 instead of retrying at its (much shorter) backoff', async () => {
    // One upgrade per second, burst 1: a refused client that ignored Retry-After (1 s) would
    // retry every ≤ 50 ms here and be refused about twenty times before the bucket refills.
    limited = await spawnService({
      args: [CLI, 'dev'],
      env: { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_UPGRADE_RATE: '1' },
      cwd: dir,
    });
    const base = `http://127.0.0.1:${limited.port}`;
    const token = await signToken({ secret: SECRET, sub: 'paced', topics: ['>'], ttlSec: 600 });
    // Take the only upgrade token of this second.
    const first = new WebSocket(`ws://127.0.0.1:${limited.port}/v1/ws`, ['herald.v1', `herald.bearer.${token}`]);
    await new Promise<void>((res, rej) => {
      first.once('message', () => res());
      first.once('error', rej);
    });
    const client = new HeraldClient({ url: base, token, WebSocket, transports: ['websocket'], minReconnectDelayMs: 10, maxReconnectDelayMs: 50 });
    const refusals: number[] = [];
    client.on('error', (e) => {
      if (e.status === 503) refusals.push(Date.now());
    });
    const started = Date.now();
    const connected = new Promise<void>((res) => client.on('connected', () => res()));
    client.connect();
    await connected;
    const waited = Date.now() - started;
    client.close();
    first.terminate();
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(2);
    expect(waited).toBeGreaterThanOrEqual(900);
  });
});
