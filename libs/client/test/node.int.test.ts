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
    ['sse', {}],
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
