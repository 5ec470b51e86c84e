// client.inbox (docs/sdk.md#inbox) against a real `herald dev`: inbox messages published while
// the user was away arrive once in order, `delivered` is acknowledged on hand-over, `markRead`
// on one device removes the message on the other (a `read` frame), a reconnect does not hand a
// message over twice, and the same over SSE (receipts by POST /v1/inbox/receipts); a WebSocket
// reconnect resumes with `?inbox=<last seq held>`: the unread messages are not sent again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '@herald/auth';
import { spawnService, waitFor, type ServiceProcess } from '@herald/testkit';
import { HeraldClient, type InboxMessage } from '../src/inbox.js';
import { TcpProxy } from './helpers/proxy.js';
import { API_KEY, SECRET } from './helpers/servers.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
let dir: string;
let dev: ServiceProcess;
let url: string;

async function publishInbox(user: string, data: unknown): Promise<number> {
  const res = await fetch(`${url}/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ user, inbox: true, data }) });
  return ((await res.json()) as { results: { seq: number }[] }).results[0]!.seq;
}
async function listing(user: string): Promise<{ delivered: number; read: number }> {
  return (await (await fetch(`${url}/v1/users/${user}/inbox`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { delivered: number; read: number };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-inbox-sdk-'));
  dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY }, cwd: dir });
  url = `http://127.0.0.1:${dev.port}`;
});
afterAll(async () => {
  await dev?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('client.inbox', () => {
  it.each([
    ['websocket', { WebSocket }],
    ['sse', { transports: ['sse'] }],
  ] as const)('%s: messages once in order, auto-delivered, markRead reaches the other device, no repeat after a reconnect', async (transport, extra) => {
    const user = `inbox-sdk-${transport}`;
    const token = await signToken({ secret: SECRET, sub: user, topics: ['>'], ttlSec: 600 });
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await publishInbox(user, { i }));
    const a = new HeraldClient({ url, token, ...extra });
    const b = new HeraldClient({ url, token, WebSocket, autoDelivered: false });
    const gotA: InboxMessage[] = [];
    const readOnB: number[] = [];
    a.inbox.on('message', (m) => gotA.push(m));
    b.inbox.on('read', (s) => readOnB.push(...s));
    a.connect();
    b.connect();
    await waitFor(() => gotA.length === 5 && b.inbox.pending.length === 5, 10_000);
    expect(gotA.map((m) => m.seq)).toEqual(seqs);
    expect(gotA.map((m) => m.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    await waitFor(async () => (await listing(user)).delivered === seqs[4], 10_000, 'auto delivered');
    // live
    seqs.push(await publishInbox(user, { i: 5 }));
    await waitFor(() => gotA.length === 6, 10_000);
    await a.inbox.markRead(gotA[0]!);
    await waitFor(() => readOnB.includes(seqs[0]!), 10_000, 'read on the other device');
    expect(b.inbox.pending.map((m) => m.seq)).toEqual(seqs.slice(1));
    expect(a.inbox.pending.map((m) => m.seq)).toEqual(seqs.slice(1));
    // A reconnect (the gateway sends the unread ones again): nothing handed over twice.
    const b2 = new HeraldClient({ url, token, WebSocket });
    const gotB2: number[] = [];
    b2.inbox.on('message', (m) => gotB2.push(m.seq));
    b2.connect();
    await waitFor(() => gotB2.length === 5, 10_000);
    expect(gotB2).toEqual(seqs.slice(1));
    await a.inbox.markAllRead();
    await waitFor(() => b.inbox.pending.length === 0 && b2.inbox.pending.length === 0, 10_000);
    expect((await listing(user)).read).toBe(seqs[5]);
    for (const c of [a, b, b2]) c.close();
  }, 40_000);

  it('websocket: a reconnect resumes after the last inbox seq held (`?inbox=`): the unread messages are not sent again, nothing is lost', async () => {
    const user = 'inbox-sdk-resume';
    const token = await signToken({ secret: SECRET, sub: user, topics: ['>'], ttlSec: 600 });
    const proxy = await TcpProxy.start(dev.port);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await publishInbox(user, { i }));
    // Counts the `inbox` frames that cross the wire, and records each upgrade URL.
    const urls: string[] = [];
    let wire = 0;
    class CountingWebSocket extends WebSocket {
      constructor(address: string, protocols?: string | string[]) {
        super(address, protocols);
        urls.push(address);
        this.on('message', (d: Buffer) => {
          if (d.toString().startsWith('{"op":"inbox"')) wire++;
        });
      }
    }
    const client = new HeraldClient({ url: proxy.url, token, WebSocket: CountingWebSocket, minReconnectDelayMs: 20, maxReconnectDelayMs: 100 });
    const got: number[] = [];
    let connects = 0;
    client.inbox.on('message', (m) => got.push(m.seq));
    client.on('connected', () => connects++);
    client.connect();
    await waitFor(() => got.length === 5, 10_000);
    await waitFor(async () => (await listing(user)).delivered === seqs[4], 10_000, 'auto delivered'); // delivered, not read: a connection from 0 would get them again
    proxy.cutAll();
    // Published while the client reconnects: before or after the new connection reads the inbox, either way once.
    for (let i = 5; i < 7; i++) seqs.push(await publishInbox(user, { i }));
    await waitFor(() => connects === 2 && got.length === 7, 10_000, 'reconnected, the messages published meanwhile received');
    seqs.push(await publishInbox(user, { i: 7 })); // live on the new connection
    await waitFor(() => got.length === 8, 10_000);
    expect(got).toEqual(seqs);
    expect(urls).toHaveLength(2);
    expect(new URL(urls[0]!).searchParams.get('inbox')).toBeNull();
    expect(new URL(urls[1]!).searchParams.get('inbox')).toBe(String(seqs[4]));
    // Without `?inbox=` the gateway would send the 5 unread messages again (13 frames).
    expect(wire).toBe(8);
    console.log(`[inbox-resume] ${wire} inbox frames on the wire for ${got.length} messages across a reconnect (upgrade URL ${urls[1]!.replace(/^.*\?/, '?')})`);
    client.close();
    await proxy.close();
  }, 40_000);
});
