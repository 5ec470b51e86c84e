// Presence members as a page sees them: the SDK bundle in a real Chromium against `herald dev`
// with a presence topic. Alice's page lists who is in the room (with the token's `info`), sees
// Bob join once although he has two tabs, and sees him leave once, after his last tab closed.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@herald/auth';
import { spawnService, type ServiceProcess } from '@herald/testkit';
import { launchBrowser, type Browser } from './helpers/browser.js';
import { BUNDLE, SECRET } from './helpers/servers.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
const GRACE_MS = 400;

/** The page: a client whose token names the user, their `info` and the right to read members. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>herald presence test</title>
<script type="module">
import { HeraldClient } from '/sdk.js';
window.join = (url, user, name, topic) => {
  const P = window.P = { members: {}, joins: [], leaves: [], ready: undefined };
  const getToken = async () => (await (await fetch('/token?sub=' + encodeURIComponent(user) + '&name=' + encodeURIComponent(name))).json()).token;
  const c = window.client = new HeraldClient({ url, getToken });
  const room = c.subscribe(topic, () => undefined, { presence: true });
  const snapshot = () => { P.members = Object.fromEntries(room.presence?.members ?? []); };
  room.presence?.on('join', (u, info) => { P.joins.push([u, info]); snapshot(); });
  room.presence?.on('leave', (u) => { P.leaves.push(u); snapshot(); });
  room.ready.then((r) => { P.ready = r; if (room.presence) snapshot(); });
  c.connect();
};
</script>`;

interface PagePresence {
  members: Record<string, unknown>;
  joins: [string, unknown][];
  leaves: string[];
  ready?: { ok: boolean; code?: string };
}

let browser: Browser;
let server: Server;
let pageUrl = '';
let dev: ServiceProcess;
let dir = '';
const pages: Page[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-browser-presence-'));
  const bundle = readFileSync(BUNDLE, 'utf8');
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (u.pathname === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (u.pathname === '/token') {
      const sub = u.searchParams.get('sub') ?? 'u';
      void signToken({ secret: SECRET, sub, topics: ['room.*', 'lobby'], extra: { presence: ['room.*'], info: { name: u.searchParams.get('name') ?? '' } } }).then((token) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  pageUrl = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/`;
  [browser, dev] = await Promise.all([
    launchBrowser(),
    spawnService({
      args: [CLI, 'dev'],
      env: {
        HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: 'browser-presence-api-key-0123456789',
        HERALD_LOG_LEVEL: 'info', HERALD_PRESENCE_TOPICS: 'room.*', HERALD_PRESENCE_GRACE_MS: String(GRACE_MS), HERALD_PRESENCE_BATCH_MS: '50',
      },
      cwd: dir,
    }),
  ]);
}, 60_000);

afterAll(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(() => r(undefined)));
  await dev?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openAs(user: string, name: string, topic: string): Promise<Page> {
  const page = await browser.context.newPage();
  pages.push(page);
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(pageUrl);
  await page.waitForFunction(() => typeof (window as unknown as { join?: unknown }).join === 'function');
  await page.evaluate(([url, u, n, t]) => (window as unknown as { join(...a: string[]): void }).join(url!, u!, n!, t!), [`http://127.0.0.1:${dev.port}`, user, name, topic]);
  await page.waitForFunction(() => (window as unknown as { P: PagePresence }).P.ready !== undefined, undefined, { timeout: 20_000, polling: 20 });
  return page;
}

const presenceOf = (page: Page): Promise<PagePresence> => page.evaluate(() => (window as unknown as { P: PagePresence }).P);

async function waitPresence(page: Page, test: string, timeoutMs = 10_000): Promise<PagePresence> {
  // `test` is a predicate over P, evaluated in the page on each poll.
  await page.waitForFunction(test, undefined, { timeout: timeoutMs, polling: 20 });
  return presenceOf(page);
}

describe('presence members in Chromium', () => {
  it('a page lists who is in the room, sees a two-tab user join once and leave once after the last tab', async () => {
    const alice = await openAs('alice', 'Alice', 'room.1');
    const first = await presenceOf(alice);
    expect(first.ready?.ok).toBe(true);
    expect(first.members).toEqual({ alice: { name: 'Alice' } });

    const bobTab1 = await openAs('bob', 'Bob', 'room.1');
    const seen = await waitPresence(alice, '"bob" in window.P.members');
    expect(seen.members).toEqual({ alice: { name: 'Alice' }, bob: { name: 'Bob' } });
    // Bob's page got the list with both, from its `sub` result.
    expect((await presenceOf(bobTab1)).members).toEqual({ alice: { name: 'Alice' }, bob: { name: 'Bob' } });

    // A second tab of Bob's: no second join.
    const bobTab2 = await openAs('bob', 'Bob', 'room.1');
    expect(Object.keys((await presenceOf(bobTab2)).members).sort()).toEqual(['alice', 'bob']);
    // One tab closes: Bob is still there (his other tab), so no leave even after the grace.
    await bobTab1.evaluate(() => (window as unknown as { client: { close(): void } }).client.close());
    // Carol's arrival after the grace is the event we wait on: frames come in order, so a leave
    // of Bob's (had it been sent) would have reached Alice first.
    await alice.waitForTimeout(GRACE_MS + 200);
    await openAs('carol', 'Carol', 'room.1');
    const afterOneTab = await waitPresence(alice, '"carol" in window.P.members');
    expect(afterOneTab.leaves).toEqual([]);
    // The first list (Alice alone) is reported as joins too, then each newcomer once.
    expect(afterOneTab.joins.map(([u]) => u)).toEqual(['alice', 'bob', 'carol']);

    // His last tab closes: one leave, after the grace.
    const closedAt = Date.now();
    await bobTab2.evaluate(() => (window as unknown as { client: { close(): void } }).client.close());
    const gone = await waitPresence(alice, 'window.P.leaves.length >= 1');
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(gone.leaves).toEqual(['bob']);
    expect(gone.members).toEqual({ alice: { name: 'Alice' }, carol: { name: 'Carol' } });
    expect(gone.joins.map(([u]) => u)).toEqual(['alice', 'bob', 'carol']);
  });

  it('a page asking for the members of a topic that is not a presence topic is told so', async () => {
    const page = await openAs('dave', 'Dave', 'lobby');
    const p = await presenceOf(page);
    // The token allows `lobby` but it is not a presence topic: asking for its members is refused
    // with a code, never a throw.
    expect(p.ready?.ok).toBe(false);
    expect(p.ready?.code).toBe('forbidden');
  });
});
