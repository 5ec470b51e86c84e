/**
 * The test's own HTTP server: the test page, the SDK bundle (dist/herald-client.min.js, as a
 * browser loads it), and `/token?sub=&ttl=` minting tokens with the gateways' secret (what an
 * application's backend does for its pages). Plus a publisher for the publish API.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { signToken } from '@herald/auth';
import { TEST_PAGE } from './browser.js';

export const SECRET = 'browser-test-secret-of-32-chars!!';
export const API_KEY = 'browser-test-api-key-0123456789';
export const BUNDLE = resolve(import.meta.dirname, '../../dist/herald-client.min.js');

export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startPageServer(): Promise<PageServer> {
  const bundle = readFileSync(BUNDLE, 'utf8');
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(TEST_PAGE);
    if (u.pathname === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    if (u.pathname === '/token') {
      const sub = u.searchParams.get('sub') ?? 'u';
      const ttlSec = Number(u.searchParams.get('ttl') ?? '3600');
      void signToken({ secret: SECRET, sub, topics: ['>'], ttlSec }).then((token) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })),
      );
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface Published {
  readonly ch: string;
  readonly seq: number;
  readonly n: number;
}

/** POST /v1/publish; returns what was stored. */
export async function publish(apiUrl: string, target: { topic: string } | { user: string }, n: number): Promise<Published> {
  const r = await fetch(apiUrl + '/v1/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ ...target, data: { n } }),
  });
  if (r.status !== 200) throw new Error(`publish: HTTP ${r.status} ${await r.text()}`);
  const body = (await r.json()) as { results: { ch: string; seq: number }[] };
  const first = body.results[0];
  if (first === undefined) throw new Error('publish: no result');
  return { ch: first.ch, seq: first.seq, n };
}

/** Publishes to each target in turn every `intervalMs` until stopped; keeps what was stored. */
export function startPublisher(apiUrl: string, targets: readonly ({ topic: string } | { user: string })[], intervalMs: number) {
  const published: Published[] = [];
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const target = targets[n % targets.length] as { topic: string } | { user: string };
      published.push(await publish(apiUrl, target, n++));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    published,
    /** Stops and resolves once the last publish is answered. */
    stop: async (): Promise<Published[]> => {
      running = false;
      await loop;
      return published;
    },
  };
}

/** `seq:n` per channel, in publish order: what the page must end with, exactly. */
export function expectedPerChannel(published: readonly Published[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of published) (out[p.ch] ??= []).push(`${p.seq}:${p.n}`);
  return out;
}
