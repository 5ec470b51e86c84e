/**
 * A real Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fresh
 * profile, and the test page's recorder: `start(cfg)` in the page creates a HeraldClient from
 * the SDK bundle and records states, errors, welcomes and messages in `window.R`.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  newPage(url: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    context,
    async newPage(url) {
      const page = await context.newPage();
      page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
      await page.goto(url);
      await page.waitForFunction(() => typeof (window as unknown as { start?: unknown }).start === 'function');
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What the page's `start(cfg)` takes. */
export interface PageClientConfig {
  /** Gateway base URL. */
  readonly url: string;
  /** User id of the tokens the page fetches from the test server's /token. */
  readonly sub: string;
  /** Token lifetime, seconds. */
  readonly ttl: number;
  readonly topics: readonly string[];
  /** Extra HeraldClientOptions (JSON-serializable). */
  readonly options?: Record<string, unknown>;
}

/** What the page records (window.R). */
export interface Recorded {
  states: [string, number][];
  errors: { code: string; closeCode?: number; reaction?: string; status?: number; transport?: string; at: number }[];
  connected: { transport: string; node: string; at: number }[];
  unrecovered: string[];
  /** Per channel: `seq:n` of each message, in arrival order. */
  msgs: Record<string, string[]>;
  /** Calls of getToken. */
  tokens: number;
}

/** The test page: the SDK bundle as a module, and the recorder. */
export const TEST_PAGE = `<!doctype html><meta charset="utf-8"><title>herald sdk test</title>
<script type="module">
import { HeraldClient } from '/sdk.js';
window.start = (cfg) => {
  const R = window.R = { states: [], errors: [], connected: [], unrecovered: [], msgs: {}, tokens: 0 };
  const getToken = async () => {
    R.tokens++;
    const r = await fetch('/token?sub=' + encodeURIComponent(cfg.sub) + '&ttl=' + cfg.ttl);
    return (await r.json()).token;
  };
  const c = window.client = new HeraldClient({ url: cfg.url, getToken, ...(cfg.options || {}) });
  c.on('state', (s) => R.states.push([s, Date.now()]));
  c.on('error', (e) => R.errors.push({ code: e.code, closeCode: e.closeCode, reaction: e.reaction, status: e.status, transport: e.transport, at: Date.now() }));
  c.on('connected', (i) => R.connected.push({ transport: i.transport, node: i.node, at: Date.now() }));
  c.on('unrecovered', (e) => R.unrecovered.push(e.channel));
  const rec = (m) => (R.msgs[m.ch] ??= []).push(m.seq + ':' + m.data.n);
  c.on('user', rec);
  for (const t of cfg.topics) c.subscribe(t, rec);
  c.connect();
};
</script>`;

/** Starts the page's client. */
export async function startClient(page: Page, cfg: PageClientConfig): Promise<void> {
  await page.evaluate((c) => (window as unknown as { start(c: PageClientConfig): void }).start(c), cfg);
}

export function recorded(page: Page): Promise<Recorded> {
  return page.evaluate(() => (window as unknown as { R: Recorded }).R);
}

/** Waits (in the page, on its events) until `count` welcomes were received. */
export async function waitConnected(page: Page, count = 1, timeoutMs = 20_000): Promise<Recorded['connected'][number]> {
  await page.waitForFunction((n) => (window as unknown as { R: Recorded }).R.connected.length >= n, count, { timeout: timeoutMs, polling: 20 });
  const r = await recorded(page);
  return r.connected[count - 1] as Recorded['connected'][number];
}

/** Waits until the page holds at least `n` messages in all. */
export async function waitMessages(page: Page, n: number, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    (want) => Object.values((window as unknown as { R: Recorded }).R.msgs).reduce((s, l) => s + l.length, 0) >= want,
    n,
    { timeout: timeoutMs, polling: 20 },
  );
}
