// The publish API's behaviour over HTTP, run against the process on each bus (memory, NATS).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY, OTHER_KEY, errorCode, rawPost, type Api } from './helpers.js';

interface Result {
  ch: string;
  seq: number;
  duplicate?: true;
}
interface HistoryBody {
  epoch: string;
  complete: boolean;
  truncated: boolean;
  messages: { ch: string; seq: number; prev: number; ts: number; data: unknown; id?: string }[];
}

const results = (body: unknown): Result[] => (body as { results: Result[] }).results;
/** A topic name no other test uses. */
const fresh = (): string => `t-${randomUUID().slice(0, 8)}`;

/** Registers the shared scenarios; `api()` returns the running process of the surrounding file. */
export function publishApiSuite(api: () => Api): void {
  describe('publishing', () => {
    it('publishes to a topic with increasing seqs', async () => {
      const topic = fresh();
      const a = await api().post('/v1/publish', { topic, data: { n: 1 } });
      const b = await api().post('/v1/publish', { topic, data: { n: 2 } });
      expect(a.status).toBe(200);
      expect(a.headers.get('content-type')).toBe('application/json');
      const [ra, rb] = [results(a.body), results(b.body)];
      expect(ra).toEqual([{ ch: `topic:${topic}`, seq: expect.any(Number) as number }]);
      expect((rb[0] as Result).seq).toBeGreaterThan((ra[0] as Result).seq);
    });

    it('publishes to topics, deduplicated, in order', async () => {
      const [x, y] = [fresh(), fresh()];
      const r = await api().post('/v1/publish', { topics: [x, y, x], data: null });
      expect(r.status).toBe(200);
      expect(results(r.body).map((e) => e.ch)).toEqual([`topic:${x}`, `topic:${y}`]);
    });

    it('publishes to a user and to users whose ids need escaping on the bus', async () => {
      const one = await api().post('/v1/publish', { user: '42', data: 'hi' });
      expect(results(one.body)).toEqual([{ ch: 'user:42', seq: expect.any(Number) as number }]);
      const ids = ['a.b', 'x y', '*', '>', 'é/ü', 'user:7'];
      const many = await api().post('/v1/publish', { users: ids, data: [1, 2] });
      expect(many.status).toBe(200);
      expect(results(many.body).map((e) => e.ch)).toEqual(ids.map((u) => `user:${u}`));
      const again = await api().post('/v1/publish', { user: 'a.b', data: 2 });
      expect((results(again.body)[0] as Result).seq).toBeGreaterThan((results(many.body)[0] as Result).seq);
    });

    it('returns the same results for a retried id and stores once', async () => {
      const topic = fresh();
      const body = { topics: [topic, `${topic}.x`], data: { order: 1 }, id: `order-${randomUUID()}` };
      const first = await api().post('/v1/publish', body);
      const retry = await api().post('/v1/publish', body);
      expect(first.status).toBe(200);
      expect(retry.status).toBe(200);
      expect(results(retry.body)).toEqual(results(first.body).map((r) => ({ ...r, duplicate: true })));
      const h = await api().get(`/v1/history?ch=topic:${topic}`);
      expect((h.body as HistoryBody).messages).toHaveLength(1);
    });

    it('publishes a batch, results in message order', async () => {
      const [x, y] = [fresh(), fresh()];
      const r = await api().post('/v1/publish/batch', {
        messages: [{ topic: x, data: 1 }, { users: ['b1', 'b2'], data: 2, id: randomUUID() }, { topic: x, data: 3 }, { topics: [y], data: 4 }],
      });
      expect(r.status).toBe(200);
      const groups = (r.body as { results: { results: Result[] }[] }).results;
      expect(groups.map((g) => g.results.map((e) => e.ch))).toEqual([[`topic:${x}`], ['user:b1', 'user:b2'], [`topic:${x}`], [`topic:${y}`]]);
      expect(groups[2]?.results[0]?.seq).toBeGreaterThan(groups[0]?.results[0]?.seq ?? Infinity);
      const h = (await api().get(`/v1/history?ch=topic:${x}`)).body as HistoryBody;
      expect(h.messages.map((m) => m.data)).toEqual([1, 3]);
    });

    it('publishes nothing from a batch with one bad message', async () => {
      const topic = fresh();
      const r = await api().post('/v1/publish/batch', { messages: [{ topic, data: 1 }, { topic: 'bad topic', data: 2 }] });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { code: 'invalid_target', message: expect.stringMatching(/^messages\[1\]: /) as string, index: 1 } });
      expect(((await api().get(`/v1/history?ch=topic:${topic}`)).body as HistoryBody).messages).toEqual([]);
    });

    it('accepts the second configured key', async () => {
      const r = await api().post('/v1/publish', { topic: fresh(), data: 1 }, { authorization: `Bearer ${OTHER_KEY}` });
      expect(r.status).toBe(200);
    });
  });

  describe('history, presence, disconnect', () => {
    it('reads history with since and limit', async () => {
      const topic = fresh();
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await api().post('/v1/publish', i === 2 ? { topic, data: { i }, id: `h-${topic}` } : { topic, data: { i } });
        seqs.push((results(r.body)[0] as Result).seq);
      }
      const all = (await api().get(`/v1/history?ch=topic:${topic}`)).body as HistoryBody;
      expect(all).toMatchObject({ epoch: expect.any(String) as string, complete: true, truncated: false });
      expect(all.messages.map((m) => m.seq)).toEqual(seqs);
      expect(all.messages.map((m) => m.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
      expect(all.messages[0]?.prev).toBe(0);
      expect(all.messages[1]?.prev).toBe(seqs[0]);
      expect(all.messages[2]?.id).toBe(`h-${topic}`);
      expect(all.messages[0] && 'id' in all.messages[0]).toBe(false);
      expect(all.messages[0]?.ts).toBeGreaterThan(Date.now() - 60_000);
      const page = (await api().get(`/v1/history?ch=topic:${topic}&since=${seqs[1]}&limit=2`)).body as HistoryBody;
      expect(page.messages.map((m) => m.seq)).toEqual(seqs.slice(2, 4));
      expect(page.truncated).toBe(true);
      expect(page.epoch).toBe(all.epoch);
    });

    it('reads an empty channel', async () => {
      const r = await api().get(`/v1/history?ch=${encodeURIComponent('user:nobody here')}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ messages: [], complete: true });
    });

    it('answers presence 0 with no gateway', async () => {
      expect((await api().get('/v1/presence?user=42')).body).toEqual({ user: '42', connections: 0 });
      expect((await api().get('/v1/presence?topic=news.eu')).body).toEqual({ topic: 'news.eu', subscribers: 0 });
    });

    it('disconnects 0 connections with no gateway', async () => {
      const r = await api().post('/v1/disconnect', { user: '42', code: 4001, reason: 'token revoked' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ disconnected: 0 });
    });
  });

  describe('errors', () => {
    const cases: [string, () => Promise<{ status: number; body: unknown }>, number, string][] = [
      ['invalid JSON', () => api().post('/v1/publish', '{"topic":'), 400, 'invalid_body'],
      ['no target', () => api().post('/v1/publish', { data: 1 }), 400, 'invalid_body'],
      ['a bad topic', () => api().post('/v1/publish', { topic: 'a..b', data: 1 }), 400, 'invalid_target'],
      ['a bad user in users', () => api().post('/v1/publish', { users: ['ok', 'bad\u0001'], data: 1 }), 400, 'invalid_target'],
      ['a bad id', () => api().post('/v1/publish', { topic: 'a', data: 1, id: 'x'.repeat(65) }), 400, 'invalid_id'],
      ['a bad history query', () => api().get('/v1/history?ch=news'), 400, 'invalid_query'],
      ['a bad presence query', () => api().get('/v1/presence'), 400, 'invalid_query'],
      ['a bad disconnect code', () => api().post('/v1/disconnect', { user: '1', code: 1011 }), 400, 'invalid_body'],
      ['no API key', () => api().post('/v1/publish', { topic: 'a', data: 1 }, { authorization: '' }), 401, 'unauthorized'],
      ['a wrong API key', () => api().get('/v1/presence?user=1', { authorization: 'Bearer wrong-key-wrong-key-1234' }), 401, 'unauthorized'],
      ['an unknown route', () => api().get('/v1/nope'), 404, 'not_found'],
      ['the wrong method', () => api().get('/v1/publish'), 405, 'method_not_allowed'],
      ['data over 64 KiB', () => api().post('/v1/publish', { topic: 'a', data: 'x'.repeat(64 * 1024) }), 413, 'data_too_large'],
      ['a batch message with data over 64 KiB', () => api().post('/v1/publish/batch', { messages: [{ topic: 'a', data: 'x'.repeat(70_000) }] }), 413, 'data_too_large'],
      ['text/plain', () => api().post('/v1/publish', { topic: 'a', data: 1 }, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ];
    it.each(cases)('answers %s', async (_name, send, status, code) => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.body).toMatchObject({ error: { code, message: expect.any(String) as string } });
      expect(Object.keys(r.body as object)).toEqual(['error']);
    });

    it('answers 405 with Allow', async () => {
      const r = await fetch(`${api().base}/v1/history?ch=topic:a`, { method: 'DELETE', headers: { authorization: `Bearer ${API_KEY}` } });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET');
    });

    it('answers 413 to a declared body over 1 MiB without reading it, and closes', async () => {
      const size = 1024 * 1024 + 1;
      const r = await rawPost(api().proc.port, '/v1/publish', {
        chunks: [Buffer.from('{"topic":')], // the rest never comes: the answer must not wait for it
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        contentLength: size,
        end: false,
      });
      expect(r.status).toBe(413);
      expect(r.closed).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'body_too_large' } });
    });

    it('answers 413 to a chunked body as soon as it passes 1 MiB', async () => {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const r = await rawPost(api().proc.port, '/v1/publish', {
        chunks: Array.from({ length: 160 }, () => chunk), // 10 MiB offered; the answer comes after ~1 MiB
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        chunkDelayMs: 5,
      });
      expect(r.status).toBe(413);
      expect(r.closed).toBe(true);
      expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'body_too_large' } });
    });

    it('is still healthy after the errors', async () => {
      expect((await fetch(`${api().base}/healthz`)).status).toBe(200);
      expect((await api().post('/v1/publish', { topic: fresh(), data: 1 })).status).toBe(200);
      expect(errorCode(await api().get('/v1/nope'))).toBe('not_found');
    });
  });
}
