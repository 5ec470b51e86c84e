// The publish API process against a real nats-server: shared scenarios, then an outage and a retry that stores once.
import { randomUUID } from 'node:crypto';
import { startNatsServer, waitFor, type NatsServerHandle } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, errorCode, startApi, type Api } from './helpers.js';
import { publishApiSuite } from './suite.js';

let nats: NatsServerHandle;
let api: Api;

interface HistoryBody {
  messages: { seq: number; id?: string; data: unknown }[];
}

beforeAll(async () => {
  nats = await startNatsServer();
  // A short bus timeout keeps the outage test quick.
  api = await startApi({ HERALD_NATS_URL: nats.url, HERALD_NATS_TIMEOUT_MS: '1000', HERALD_NODE_ID: 'pub-1' });
});

afterAll(async () => {
  await api?.proc.kill();
  await nats?.stop();
});

async function readyStatus(): Promise<number> {
  return (await fetch(`${api.base}/readyz`)).status;
}

describe('publish API on NATS', () => {
  publishApiSuite(() => api);

  it('is ready while NATS is up', async () => {
    expect(await readyStatus()).toBe(200);
  });

  describe('when NATS goes away', () => {
    const topic = `outage-${randomUUID().slice(0, 8)}`;
    const before = `before-${randomUUID()}`;
    const during = `during-${randomUUID()}`;
    let beforeSeq = 0;

    it('answers 503 bus_unavailable with Retry-After, and is not ready', async () => {
      const ok = await api.post('/v1/publish', { topic, data: 'before', id: before });
      expect(ok.status).toBe(200);
      beforeSeq = (ok.body as { results: { seq: number }[] }).results[0]?.seq ?? 0;
      await nats.kill();
      const r = await api.post('/v1/publish', { topic, data: 'during', id: during });
      expect(r.status).toBe(503);
      expect(errorCode(r)).toBe('bus_unavailable');
      expect(r.headers.get('retry-after')).toBe('1');
      expect((r.body as { error: { message: string } }).error.message).toMatch(/retry with the same id/);
      const batch = await api.post('/v1/publish/batch', { messages: [{ topic, data: 'b', id: `${during}-b` }] });
      expect(batch.status).toBe(503);
      expect((await api.get(`/v1/history?ch=topic:${topic}`)).status).toBe(503);
      await waitFor(async () => (await readyStatus()) === 503, 10_000, 'readyz to turn 503');
      expect((await fetch(`${api.base}/healthz`)).status).toBe(200);
    });

    it('stores a retried id exactly once after NATS is back', async () => {
      await nats.restart();
      await waitFor(async () => (await readyStatus()) === 200, 20_000, 'readyz to turn 200');
      // The bus may still be settling after the reconnect: retry as a client would, same id each time.
      const retried = await waitFor(async () => {
        const r = await api.post('/v1/publish', { topic, data: 'during', id: during });
        return r.status === 200 ? r : undefined;
      }, 15_000, 'the retry to succeed', 250);
      const seq = (retried.body as { results: { seq: number }[] }).results[0]?.seq ?? 0;
      expect(seq).toBeGreaterThan(beforeSeq);
      const again = await api.post('/v1/publish', { topic, data: 'during', id: during });
      expect(again.body).toEqual({ results: [{ ch: `topic:${topic}`, seq, duplicate: true }] });
      const beforeAgain = await api.post('/v1/publish', { topic, data: 'before', id: before });
      expect(beforeAgain.body).toEqual({ results: [{ ch: `topic:${topic}`, seq: beforeSeq, duplicate: true }] });
      const h = (await api.get(`/v1/history?ch=topic:${topic}`)).body as HistoryBody;
      expect(h.messages.filter((m) => m.id === during)).toHaveLength(1);
      expect(h.messages.map((m) => m.data)).toEqual(['before', 'during']);
    });

    it('logged warnings for the 5xx answers, never the key', () => {
      const warns = api.proc.logs().filter((r) => r['msg'] === 'request failed');
      expect(warns.length).toBeGreaterThan(0);
      expect(warns[0]).toMatchObject({ status: 503, code: 'bus_unavailable', reqId: expect.any(String) as string });
      expect(api.proc.lines.join('\n')).not.toContain(API_KEY);
    });
  });
});
