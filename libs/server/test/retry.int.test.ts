// Retries against a real HTTP server that misbehaves on purpose: 503 with Retry-After, a
// request left unanswered, a dropped connection. Every attempt must carry the same bytes
// (the same idempotency id), and the bounds must hold.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HeraldApiError, HeraldRequestError, HeraldServer, type RetryInfo } from '../src/index.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly auth: string | undefined;
  readonly body: string;
}

type Behaviour = (n: number, req: IncomingMessage, res: ServerResponse) => void;

describe('HeraldServer retries (real HTTP server)', () => {
  let server: Server;
  let base: string;
  let seen: Seen[];
  let behaviour: Behaviour;

  const ok = (res: ServerResponse, body: unknown = { results: [{ ch: 'topic:news', seq: 7 }] }): void => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const unavailable = (res: ServerResponse, retryAfter = '1'): void => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': retryAfter });
    res.end(JSON.stringify({ error: { code: 'bus_unavailable', message: 'the bus is unavailable; nothing was stored' } }));
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
        behaviour(seen.length, req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen = [];
  });

  const client = (extra: Partial<ConstructorParameters<typeof HeraldServer>[0]> = {}, retries: RetryInfo[] = []): HeraldServer =>
    new HeraldServer({ url: base, apiKey: 'k1', retry: { baseDelayMs: 10, maxDelayMs: 50 }, onRetry: (i) => retries.push(i), ...extra });

  it('retries a 503 after its Retry-After with the same idempotency id, then succeeds', async () => {
    behaviour = (n, _req, res) => (n === 1 ? unavailable(res, '1') : ok(res));
    const retries: RetryInfo[] = [];
    const started = Date.now();
    const r = await client({}, retries).publish({ topic: 'news', data: { a: 1 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.results).toEqual([{ ch: 'topic:news', seq: 7 }]);
    expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/publish', auth: 'Bearer k1' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ topic: 'news', data: { a: 1 }, id: r.id });
    expect(retries).toEqual([{ attempt: 1, delayMs: expect.any(Number), reason: 'bus_unavailable', status: 503 }]);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
  });

  it('keeps the caller\'s own id', async () => {
    behaviour = (n, _req, res) => (n === 1 ? unavailable(res, '0') : ok(res));
    const r = await client().publish({ users: ['1', '2'], data: null, id: 'order-981' });
    expect(r.id).toBe('order-981');
    expect(seen.map((s) => (JSON.parse(s.body) as { id: string }).id)).toEqual(['order-981', 'order-981']);
  });

  it('retries a request left unanswered past timeoutMs, with the same id', async () => {
    behaviour = (n, _req, res) => (n === 1 ? undefined : ok(res)); // the first one hangs
    const retries: RetryInfo[] = [];
    const r = await client({ timeoutMs: 300 }, retries).publish({ topic: 'news', data: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.body).toBe(seen[1]!.body);
    expect(JSON.parse(seen[1]!.body)).toMatchObject({ id: r.id });
    expect(retries.map((i) => i.reason)).toEqual(['timeout']);
  });

  it('retries a dropped connection', async () => {
    behaviour = (n, req, res) => (n === 1 ? req.socket.destroy() : ok(res));
    const retries: RetryInfo[] = [];
    await client({}, retries).publish({ topic: 'news', data: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.body).toBe(seen[1]!.body);
    expect(retries.map((i) => i.reason)).toEqual(['network_error']);
  });

  it('gives up after maxAttempts with the wire code', async () => {
    behaviour = (_n, _req, res) => unavailable(res, '0');
    const err = await client({ retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } }).publish({ topic: 'news', data: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldApiError);
    expect(err).toMatchObject({ code: 'bus_unavailable', status: 503, attempts: 3, retryAfterMs: 0 });
    expect(seen).toHaveLength(3);
  });

  it('gives up at once when Retry-After passes the time budget', async () => {
    behaviour = (_n, _req, res) => unavailable(res, '60');
    const err = await client({ retry: { maxElapsedMs: 5000 } }).publish({ topic: 'news', data: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bus_unavailable', attempts: 1, retryAfterMs: 60_000 });
    expect(seen).toHaveLength(1);
  });

  it('gives up on timeouts with a HeraldRequestError', async () => {
    behaviour = () => undefined;
    const err = await client({ timeoutMs: 100, retry: { maxAttempts: 2 } }).history({ ch: 'topic:news' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldRequestError);
    expect(err).toMatchObject({ code: 'timeout', attempts: 2 });
  });

  it('never retries a client error, and carries the index of a refused batch message', async () => {
    behaviour = (_n, _req, res) =>
      void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'invalid_target', message: 'messages[1]: bad', index: 1 } }));
    const err = await client().publishBatch([{ topic: 'a', data: 1 }, { topic: 'b..', data: 2 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldApiError);
    expect(err).toMatchObject({ code: 'invalid_target', status: 400, index: 1, attempts: 1, message: 'messages[1]: bad' });
    expect(seen).toHaveLength(1);
    const ids = (JSON.parse(seen[0]!.body) as { messages: { id: string }[] }).messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('names a non-Herald error answer unexpected_response', async () => {
    behaviour = (_n, _req, res) => void res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    const err = await client({ retry: { maxAttempts: 2 } }).presence({ user: '42' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unexpected_response', status: 502, attempts: 2 });
  });

  it('stops waiting when the caller aborts', async () => {
    behaviour = (_n, _req, res) => unavailable(res, '10');
    const ac = new AbortController();
    const err = await client({ onRetry: () => ac.abort() }).publish({ topic: 'news', data: 1 }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'HeraldRequestError', code: 'aborted', attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it('keeps a path prefix of the base URL and encodes queries', async () => {
    behaviour = (_n, _req, res) => ok(res, { epoch: 'e', complete: true, truncated: false, messages: [] });
    await client({ url: `${base}/herald` }).history({ ch: 'user:a b/ü', since: 3, limit: 10 });
    const url = new URL(seen[0]!.url, base);
    expect(url.pathname).toBe('/herald/v1/history');
    expect(Object.fromEntries(url.searchParams)).toEqual({ ch: 'user:a b/ü', since: '3', limit: '10' });
  });
});
