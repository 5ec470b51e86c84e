// subscribe(topic, fn, { rewind }) against a real `herald dev`: the gateway replays the retained
// history for `since: 0` before its ack; the SDK delivers the newest n of it, then live messages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  dir = mkdtempSync(join(tmpdir(), 'herald-rewind-'));
  dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY }, cwd: dir });
  url = `http://127.0.0.1:${dev.port}`;
});
afterAll(async () => {
  await dev?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('rewind: the newest n retained messages first, then live ones, each once, in order', async () => {
  const before = [];
  for (let n = 1; n <= 6; n++) before.push(await publish(url, { topic: 'rewind.t' }, n));
  const client = new HeraldClient({ url, token: await signToken({ secret: SECRET, sub: 'rw', topics: ['rewind.*'], ttlSec: 600 }), WebSocket });
  const got: HeraldMessage[] = [];
  const fresh: HeraldMessage[] = [];
  const sub = client.subscribe('rewind.t', (m) => got.push(m), { rewind: 3 });
  client.subscribe('rewind.none', (m) => fresh.push(m));
  client.connect();
  expect(await sub.ready).toEqual({ ok: true });
  expect(got.map((m) => m.seq)).toEqual(before.slice(-3).map((p) => p.seq));
  const live = await publish(url, { topic: 'rewind.t' }, 7);
  await waitFor(() => got.length === 4, 5000, 'the live message');
  expect(got.map((m) => [m.seq, m.data])).toEqual([...before.slice(-3).map((p, i) => [p.seq, { n: 4 + i }]), [live.seq, { n: 7 }]]);
  expect(fresh).toEqual([]);
  client.close();
});
