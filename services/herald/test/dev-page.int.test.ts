// `herald dev` serves the live page, the SDK bundle and the development-only endpoints;
// `herald gateway` does not.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, spawnService, waitFor, type ServiceProcess } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');

describe('herald dev: the live page', () => {
  let dir: string;
  let dev: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-devpage-'));
    dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1' }, cwd: dir });
    base = `http://127.0.0.1:${dev.port}`;
  });
  afterAll(async () => {
    await dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the live page URL in the banner', async () => {
    // The banner goes to stderr, the `listening` log to stdout: two pipes, read in any order.
    const banner = await waitFor(() => dev.lines.some((l) => l.includes('Live page:')) && dev.lines.join('\n'), 5000, 'the banner');
    expect(banner).toContain(`Live page: ${base}/`);
  });

  it('serves the page at / and the SDK bundle from the installed @herald/client', async () => {
    const page = await fetch(base + '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('/sdk/herald-client.js');
    expect(html).toContain('development only');
    const sdk = await fetch(base + '/sdk/herald-client.js');
    expect(sdk.status).toBe(200);
    expect(sdk.headers.get('content-type')).toContain('text/javascript');
    const bundle = readFileSync(createRequire(import.meta.url).resolve('@herald/client/herald-client.min.js'), 'utf8');
    expect(await sdk.text()).toBe(bundle);
    expect(bundle).toContain('HeraldClient');
  });

  it('mints a short-lived token for the page and publishes through /dev/publish', async () => {
    const r = await fetch(base + '/dev/token?sub=page-user&topics=news,orders.*&ttl=120');
    expect(r.status).toBe(200);
    const { token, exp } = (await r.json()) as { token: string; exp: number };
    expect(exp - Date.now() / 1000).toBeLessThanOrEqual(121);
    const ws = await connectWs(`ws://127.0.0.1:${dev.port}/v1/ws`, { token });
    expect(ws.ofOp('welcome')[0]).toMatchObject({ user: 'page-user' });
    await ws.request({ op: 'sub', id: 1, topics: ['news'] });
    const pub = await fetch(base + '/dev/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'news', data: { from: 'page' } }) });
    expect(pub.status).toBe(200);
    const [msg] = await ws.waitMessages('topic:news', 1);
    expect(msg?.data).toEqual({ from: 'page' });
    await ws.close();
    const bad = await fetch(base + '/dev/publish', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"topic":"bad..name","data":1}' });
    expect(bad.status).toBe(400);
    expect((await fetch(base + '/dev/token?ttl=999999')).status).toBe(400);
  });
});

describe('herald gateway: no live page, no /dev endpoints', () => {
  it('does not register them', async () => {
    const gw = await spawnService({
      args: [CLI, 'gateway'],
      env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: 'a-test-secret-of-32-characters!!', HERALD_BUS: 'memory' },
    });
    try {
      for (const path of ['/', '/dev/token', '/sdk/herald-client.js']) {
        const r = await fetch(`http://127.0.0.1:${gw.port}${path}`).catch(() => undefined);
        expect(r === undefined || r.status === 404, path).toBe(true);
      }
    } finally {
      await gw.kill();
    }
  });
});
