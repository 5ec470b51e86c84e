// The SDK bundle in a real Chromium against real Herald processes: (a) connect, subscribe,
// receive; (b) on NATS, a gateway SIGKILLed and restarted, then a switch to another node,
// while a publisher keeps going: every message exactly once, in order; (c) WebSocket refused
// by a proxy: SSE with the same API, recovery after the stream is cut; (d) a token expiring
// mid-session is refreshed without a lost message; (e) 4003 reaches the app, no auto-reconnect.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, startNatsServer, type NatsServerHandle, type ServiceProcess } from '@herald/testkit';
import { launchBrowser, recorded, startClient, waitConnected, waitMessages, type Browser } from './helpers/browser.js';
import { TcpProxy } from './helpers/proxy.js';
import { API_KEY, SECRET, expectedPerChannel, publish, startPageServer, startPublisher, type PageServer } from './helpers/servers.js';

const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
const BASE_ENV = { HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_LOG_LEVEL: 'info' };

let browser: Browser;
let pages: PageServer;
let dir: string;
let dev: ServiceProcess;
const open: Page[] = [];

async function page(): Promise<Page> {
  const p = await browser.newPage(pages.url + '/');
  open.push(p);
  return p;
}

/** Every channel's `seq:n` list, as the page holds them. */
async function held(p: Page): Promise<Record<string, string[]>> {
  return (await recorded(p)).msgs;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-browser-'));
  [browser, pages, dev] = await Promise.all([
    launchBrowser(),
    startPageServer(),
    // One all-in-one node for (a), (c), (d), (e): refresh 2 s before expiry, for the 4 s tokens of (d).
    spawnService({ args: [CLI, 'dev'], env: { ...BASE_ENV, HERALD_REFRESH_BEFORE_S: '2' }, cwd: dir }),
  ]);
});

afterAll(async () => {
  for (const p of open) await p.close().catch(() => undefined);
  await browser?.close();
  await pages?.close();
  await dev?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('@herald/client in Chromium', () => {
  it('(a) connects, subscribes and receives', async () => {
    const p = await page();
    const url = `http://127.0.0.1:${dev.port}`;
    await startClient(p, { url, sub: 'u-a', ttl: 3600, topics: ['news'] });
    expect((await waitConnected(p)).transport).toBe('websocket');
    await p.waitForFunction(() => (window as unknown as { client: { state: string } }).client.state === 'connected');
    // the subscription is live once acked; publish after that
    await p.evaluate(() => (window as unknown as { client: { subscribe(t: string, h: () => void): { ready: Promise<unknown> } } }).client.subscribe('news', () => undefined).ready);
    const sent = [await publish(url, { topic: 'news' }, 1), await publish(url, { user: 'u-a' }, 2)];
    await waitMessages(p, 2);
    expect(await held(p)).toEqual(expectedPerChannel(sent));
  });

  it('(b) NATS: gateway SIGKILLed and restarted, then moved to another node; every message once, in order', async () => {
    const nats: NatsServerHandle = await startNatsServer();
    const env = { ...BASE_ENV, HERALD_NATS_URL: nats.url, HERALD_DRAIN_WINDOW_MS: '300', HERALD_DRAIN_TIMEOUT_MS: '5000' };
    const procs: ServiceProcess[] = [];
    const spawn = async (role: string, node: string): Promise<ServiceProcess> => {
      const s = await spawnService({ args: [CLI, role], env: { ...env, HERALD_NODE_ID: node } });
      procs.push(s);
      return s;
    };
    try {
      const [api, gwA] = await Promise.all([spawn('publish-api', 'api'), spawn('gateway', 'gw-a')]);
      const apiUrl = `http://127.0.0.1:${api.port}`;
      const proxy = await TcpProxy.start(gwA.port);
      const p = await page();
      await startClient(p, { url: proxy.url, sub: 'u-b', ttl: 3600, topics: ['live'] });
      await waitConnected(p);
      await publish(apiUrl, { topic: 'warmup' }, -1); // the bus is up end to end
      const pub = startPublisher(apiUrl, [{ topic: 'live' }, { user: 'u-b' }], 15);
      await waitMessages(p, 10);

      const atKill = pub.published.length;
      const killedAt = Date.now();
      await gwA.kill(); // SIGKILL: no close frame, no drain
      const gwA2 = await spawn('gateway', 'gw-a');
      proxy.target = gwA2.port;
      const back = await waitConnected(p, 2);
      const recoverMs = back.at - killedAt;
      const afterRestart = pub.published.length;
      const missedWhileAway = afterRestart - atKill;
      await waitMessages(p, afterRestart);

      const gwB = await spawn('gateway', 'gw-b');
      proxy.target = gwB.port;
      const drainAt = Date.now();
      gwA2.signal('SIGTERM'); // drain: `reconnect` frames, then 1012
      const moved = await waitConnected(p, 3);
      const switchMs = moved.at - drainAt;
      expect(moved.node).toBe('gw-b');
      await waitMessages(p, pub.published.length + 10);

      const published = await pub.stop();
      const expected = expectedPerChannel(published);
      await waitMessages(p, published.length);
      const got = await held(p);
      const r = await recorded(p);
      const lost = published.length - Object.values(got).reduce((s, l) => s + l.length, 0);
      process.stdout.write(
        `[browser (b)] ${published.length} messages (topic + user) across SIGKILL/restart and a drain to another node: ` +
          `reconnected ${recoverMs} ms after SIGKILL (incl. gateway restart; ${missedWhileAway} published meanwhile, recovered), ` +
          `moved to gw-b ${switchMs} ms after SIGTERM, ` +
          `lost ${lost}, unrecovered ${r.unrecovered.length}\n`,
      );
      expect(got).toEqual(expected); // exactly once, in publish (seq) order, per channel
      expect(lost).toBe(0);
      expect(missedWhileAway).toBeGreaterThan(0); // recovery was exercised, not just live delivery
      expect(r.unrecovered).toEqual([]);
      expect(r.connected.map((c) => c.node)).toEqual(['gw-a', 'gw-a', 'gw-b']);
      await proxy.close();
    } finally {
      await Promise.all(procs.map((s) => s.kill()));
      await nats.stop();
    }
  });

  it('(c) WebSocket refused by a proxy: SSE with the same API, recovered after the stream is cut', async () => {
    const url = `http://127.0.0.1:${dev.port}`;
    const proxy = await TcpProxy.start(dev.port);
    proxy.refuseUpgrades = true;
    const p = await page();
    await startClient(p, { url: proxy.url, sub: 'u-c', ttl: 3600, topics: ['sse-a'], options: { minReconnectDelayMs: 100 } });
    const c = await waitConnected(p);
    expect(c.transport).toBe('sse');
    expect(proxy.refused).toBe(3); // three WebSocket failures, then the fallback
    const sent = [];
    for (let n = 0; n < 4; n++) sent.push(await publish(url, n % 2 ? { user: 'u-c' } : { topic: 'sse-a' }, n));
    await waitMessages(p, 4);
    // subscribe over SSE: the stream reopens with the new topic, from its last position
    await p.evaluate(() => (window as unknown as { client: { subscribe(t: string, h: (m: { ch: string; seq: number; data: { n: number } }) => void): { ready: Promise<unknown> } }; R: { msgs: Record<string, string[]> } }).client
      .subscribe('sse-b', (m) => {
        const R = (window as unknown as { R: { msgs: Record<string, string[]> } }).R;
        (R.msgs[m.ch] ??= []).push(m.seq + ':' + m.data.n);
      }).ready);
    sent.push(await publish(url, { topic: 'sse-b' }, 4));
    await waitMessages(p, 5);
    proxy.cutAll(); // the stream is cut; messages keep coming meanwhile
    for (let n = 5; n < 11; n++) sent.push(await publish(url, [{ topic: 'sse-a' }, { user: 'u-c' }, { topic: 'sse-b' }][n % 3] as { topic: string }, n));
    await waitConnected(p, 2);
    await waitMessages(p, sent.length);
    expect(await held(p)).toEqual(expectedPerChannel(sent));
    const r = await recorded(p);
    expect(r.connected.every((x) => x.transport === 'sse')).toBe(true);
    expect(r.unrecovered).toEqual([]);
    await proxy.close();
  });

  it('(d) a token expiring mid-session is refreshed without a lost message', async () => {
    const url = `http://127.0.0.1:${dev.port}`;
    const p = await page();
    await startClient(p, { url, sub: 'u-d', ttl: 4, topics: ['ticks'] }); // refresh comes 2 s before exp
    await waitConnected(p);
    const pub = startPublisher(url, [{ topic: 'ticks' }, { user: 'u-d' }], 40);
    // the first token, then two refreshes: past the first token's expiry
    await p.waitForFunction(() => (window as unknown as { R: { tokens: number } }).R.tokens >= 3, undefined, { timeout: 15_000 });
    const published = await pub.stop();
    await waitMessages(p, published.length);
    expect(await held(p)).toEqual(expectedPerChannel(published));
    const r = await recorded(p);
    expect(r.errors).toEqual([]);
    expect(r.states.map(([s]) => s)).toEqual(['connecting', 'connected']);
    expect(r.connected).toHaveLength(1);
  });

  it('(e) a 4003 disconnect reaches the app as an error and a state; no auto-reconnect', async () => {
    const url = `http://127.0.0.1:${dev.port}`;
    const p = await page();
    await startClient(p, { url, sub: 'u-e', ttl: 3600, topics: [], options: { minReconnectDelayMs: 50 } });
    await waitConnected(p);
    const res = await fetch(url + '/v1/disconnect', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ user: 'u-e', code: 4003, reason: 'signed out' }),
    });
    expect(res.status).toBe(200);
    await p.waitForFunction(() => (window as unknown as { R: { errors: { closeCode?: number }[] } }).R.errors.some((e) => e.closeCode === 4003));
    // A negative: no reconnect. With a 50 ms backoff base any automatic attempt would come within ~100 ms.
    await new Promise((r) => setTimeout(r, 1000));
    const r = await recorded(p);
    expect(r.errors.at(-1)).toMatchObject({ closeCode: 4003, reaction: 'ask-app', code: 'forbidden' });
    expect(r.states.map(([s]) => s)).toEqual(['connecting', 'connected', 'disconnected']);
    expect(r.connected).toHaveLength(1);
    await p.evaluate(() => (window as unknown as { client: { connect(): void } }).client.connect()); // the app decides
    await waitConnected(p, 2);
  });
});
