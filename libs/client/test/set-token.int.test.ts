// client.setToken() against a real `herald dev`: new permissions on the same connection (the
// `auth` op over WebSocket; a resumed stream over SSE), topics refused as `forbidden` subscribed
// again once a token allows them, topics a narrower token forbids dropped, refused tokens kept out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '@herald/auth';
import { HeraldClient, type HeraldErrorLike, type HeraldMessage } from '@herald/client';
import { spawnService, waitFor, type ServiceProcess } from '@herald/testkit';
import { API_KEY, SECRET, publish } from './helpers/servers.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');

let dir: string;
let dev: ServiceProcess;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-set-token-'));
  dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY }, cwd: dir });
  url = `http://127.0.0.1:${dev.port}`;
});
afterAll(async () => {
  await dev?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const token = (sub: string, topics: string[]): Promise<string> => signToken({ secret: SECRET, sub, topics, ttlSec: 600 });

describe('client.setToken()', () => {
  it.each([
    ['websocket', { WebSocket }],
    ['sse', { transports: ['sse'] }], // a stream cannot change its token: a new one resumes from the position, quietly
  ] as const)('%s: widens and narrows permissions, retrying forbidden topics', async (transport, extra) => {
    const sub = `st-${transport}`;
    const client = new HeraldClient({ url, token: await token(sub, ['news']), ...extra });
    let connections = 0;
    client.on('connected', () => connections++);
    const errors: HeraldErrorLike[] = [];
    client.on('error', (e) => errors.push(e));
    const got: HeraldMessage[] = [];
    const news = client.subscribe('news', (m) => got.push(m));
    const vip = client.subscribe('vip', (m) => got.push(m));
    client.connect();
    expect(await news.ready).toEqual({ ok: true });
    expect(await vip.ready).toEqual({ ok: false, code: 'forbidden' });
    expect(errors).toMatchObject([{ code: 'forbidden', topic: 'vip' }]);
    expect(client.transport).toBe(transport);

    await client.setToken(await token(sub, ['news', 'vip']));
    // `vip` is subscribed again: wait until a message published to it arrives.
    const published: string[] = [];
    await waitFor(async () => {
      const r = await publish(url, { topic: 'vip' }, published.length);
      published.push(`${r.ch}:${r.seq}`);
      return got.some((m) => m.ch === 'topic:vip');
    }, 10_000, 'a vip message after setToken');
    const a = await publish(url, { topic: 'news' }, 101);
    await waitFor(() => got.some((m) => m.ch === a.ch && m.seq === a.seq), 5000, 'news still delivered');

    await client.setToken(await token(sub, ['vip']));
    await waitFor(() => errors.some((e) => e.code === 'forbidden' && e.topic === 'news'), 5000, 'news dropped');
    const dropped = await publish(url, { topic: 'news' }, 102);
    const marker = await publish(url, { topic: 'vip' }, 103);
    await waitFor(() => got.some((m) => m.ch === marker.ch && m.seq === marker.seq), 5000, 'the vip marker');
    expect(got.some((m) => m.ch === dropped.ch && m.seq === dropped.seq)).toBe(false);
    expect(connections).toBe(1); // one `connected`: no reconnect was seen
    expect(client.state).toBe('connected');
    client.close();
  });

  it('websocket: a refused token is reported and the previous one stays in force', async () => {
    const sub = 'st-refused';
    const client = new HeraldClient({ url, token: await token(sub, ['news']), WebSocket });
    const got: HeraldMessage[] = [];
    const s = client.subscribe('news', (m) => got.push(m));
    client.connect();
    await s.ready;
    await expect(client.setToken('not.a.jwt')).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(client.setToken(await token('someone-else', ['>']))).rejects.toMatchObject({ code: 'token_mismatch' });
    expect(() => void client.setToken('')).toThrow(TypeError);
    const m = await publish(url, { topic: 'news' }, 1);
    await waitFor(() => got.some((x) => x.seq === m.seq), 5000, 'delivery on the same connection');
    expect(client.state).toBe('connected');
    client.close();
  });

  it('before connecting: the next connection uses the new token', async () => {
    const sub = 'st-early';
    const client = new HeraldClient({ url, token: await token(sub, []), WebSocket });
    const vip = client.subscribe('vip', () => undefined);
    await client.setToken(await token(sub, ['vip']));
    client.connect();
    expect(await vip.ready).toEqual({ ok: true });
    client.close();
  });
});
