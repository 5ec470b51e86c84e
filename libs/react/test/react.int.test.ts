// @herald/react in a real Chromium: a StrictMode page built by Vite (development mode, so the
// double mount happens) against a real `herald dev`. The page must hold exactly one WebSocket,
// send one `sub` for its topic, render every published message exactly once, and close its
// connection when the provider unmounts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page, type WebSocket as PwWebSocket } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@herald/auth';
import { spawnService, waitFor, type ServiceProcess } from '@herald/testkit';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'services/herald/dist/cli.js');
const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const SECRET = 'react-test-secret-0123456789abcdef';
const API_KEY = 'react-test-api-key-0123456789';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

/** Serves the built page and /token (a token for user `reader`, topic `news`). */
function staticServer(dir: string): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/token') {
      void signToken({ secret: SECRET, sub: 'reader', topics: ['news', 'hist'], ttlSec: 600 }).then((token) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })),
      );
      return;
    }
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}

describe('@herald/react in Chromium (StrictMode, Vite build)', () => {
  let outDir: string;
  let profile: string;
  let server: Server;
  let dev: ServiceProcess;
  let context: BrowserContext;
  let page: Page;
  const sockets: PwWebSocket[] = [];
  const history: number[] = [];
  const subFrames: string[] = [];

  const publish = async (body: Record<string, unknown>): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${dev.port}/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { results: { seq: number }[] }).results[0]!.seq;
  };
  const renderedSeqs = (list: string): Promise<number[]> => page.$$eval(`#${list} li`, (lis) => lis.map((li) => Number(li.getAttribute('data-seq'))));

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'herald-react-page-'));
    await build({
      configFile: false,
      root: join(import.meta.dirname, 'page'),
      mode: 'development',
      logLevel: 'warn',
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      build: { outDir, emptyOutDir: true, minify: false },
    });
    server = staticServer(outDir);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dev = await spawnService({
      args: [CLI, 'dev'],
      env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_ALLOWED_ORIGINS: origin },
    });
    profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    page.on('websocket', (ws) => {
      sockets.push(ws);
      ws.on('framesent', (f) => {
        const text = typeof f.payload === 'string' ? f.payload : f.payload.toString();
        if (text.includes('"op":"sub"')) subFrames.push(text);
      });
    });
    for (let n = 1; n <= 4; n++) history.push(await publish({ topic: 'hist', data: { n } })); // before the page: only rewind shows them
    await page.goto(`${origin}/?gw=${encodeURIComponent(`http://127.0.0.1:${dev.port}`)}`);
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await dev?.kill();
    server?.close();
    for (const d of [outDir, profile]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('connects once under StrictMode and subscribes once', async () => {
    await page.waitForSelector('#state:text("connected")');
    await page.waitForSelector('#result:text("\\"ok\\":true")');
    expect(await page.evaluate(() => window.feedMounts)).toBe(2); // StrictMode did mount twice
    expect(sockets.map((s) => new URL(s.url()).pathname)).toEqual(['/v1/ws']);
    expect(subFrames).toHaveLength(1);
    expect(JSON.parse(subFrames[0]!)).toMatchObject({ op: 'sub', topics: ['news', 'hist'], since: { 'topic:hist': 0 } });
    const presence = await fetch(`http://127.0.0.1:${dev.port}/v1/presence?user=reader`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(await presence.json()).toEqual({ user: 'reader', connections: 1 });
  });

  it('renders every live message exactly once, on the topics and the personal channel', async () => {
    const news: number[] = [];
    const mine: number[] = [];
    for (let n = 1; n <= 25; n++) {
      news.push(await publish({ topic: 'news', data: { n } }));
      if (n % 5 === 0) mine.push(await publish({ user: 'reader', data: { n } }));
    }
    await page.waitForFunction((count) => document.querySelectorAll('#news li').length >= count, news.length);
    await page.waitForFunction((count) => document.querySelectorAll('#user li').length >= count, mine.length);
    await publish({ topic: 'news', data: { n: 'last' } }).then((seq) => news.push(seq));
    await page.waitForFunction((count) => document.querySelectorAll('#news li').length >= count, news.length);
    expect(await renderedSeqs('news')).toEqual(news);
    expect(await renderedSeqs('user')).toEqual(mine);
    expect(await renderedSeqs('hist')).toEqual(history.slice(-2)); // rewind: 2, rendered once each
    expect(sockets).toHaveLength(1);
  });

  it('closes its connection when the provider unmounts', async () => {
    const [ws] = sockets;
    const closed = ws!.isClosed() ? Promise.resolve() : new Promise<void>((ok) => ws!.on('close', () => ok()));
    await page.evaluate(() => window.unmountApp());
    await closed;
    await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${dev.port}/v1/presence?user=reader`, { headers: { authorization: `Bearer ${API_KEY}` } });
      return ((await r.json()) as { connections: number }).connections === 0;
    }, 5000, 'the gateway to see the connection gone');
    expect(sockets).toHaveLength(1);
  });
});
