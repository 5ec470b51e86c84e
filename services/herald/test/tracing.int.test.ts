// Request ids and trace context end to end (docs/operations.md#request-ids-and-trace-context):
// real HTTP to the publish API, a WebSocket client on the gateway, and the processes' own logs.
// On NATS (gateway and publish API as separate `herald` processes) and on the memory bus
// (`herald dev`), with tracing off and with HERALD_TRACING=otel plus the OpenTelemetry SDK
// registered through `node --import` as an operator would (the fixture prints each span).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '@herald/auth';
import { connectWs, spawnService, startNatsServer, waitFor, type NatsServerHandle, type ServiceProcess, type WsTestClient } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const REGISTER = pathToFileURL(resolve(import.meta.dirname, 'fixtures/otel-register.mjs')).href;
const SECRET = 'tracing-test-secret-0123456789abcdef';
const API_KEY = 'tracing-test-api-key-0123456789';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;
const GENERATED_ID = /^[0-9a-f]{6}-[0-9a-z]+$/;

type Rec = Record<string, unknown>;
interface OtelSpan { name: string; kind: number; traceId: string; spanId: string; parentSpanId?: string; status: number; attributes: Rec }

interface Deployment {
  /** Answers publishes. */
  readonly api: ServiceProcess;
  /** Serves the WebSocket (the same process as `api` in `herald dev`). */
  readonly gw: ServiceProcess;
  readonly stop: () => Promise<void>;
}

const env = (extra: Record<string, string>): Record<string, string> => ({
  HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'debug',
  HERALD_UNSUBSCRIBE_LINGER_MS: '0', ...extra,
});

async function startNats(otel: boolean): Promise<Deployment> {
  const nats: NatsServerHandle = await startNatsServer();
  const pre = otel ? ['--import', REGISTER] : [];
  const e = env({ HERALD_NATS_URL: nats.url, HERALD_TRACING: otel ? 'otel' : 'off' });
  const [gw, api] = await Promise.all([
    spawnService({ args: [...pre, CLI, 'gateway'], env: { ...e, HERALD_NODE_ID: 'gw-1' } }),
    spawnService({ args: [...pre, CLI, 'publish-api'], env: { ...e, HERALD_NODE_ID: 'api-1' } }),
  ]);
  return { api, gw, stop: async () => { await Promise.all([gw.kill(), api.kill()]); await nats.stop(); } };
}

async function startDev(otel: boolean): Promise<Deployment> {
  const pre = otel ? ['--import', REGISTER] : [];
  const dev = await spawnService({ args: [...pre, CLI, 'dev'], env: env({ HERALD_TRACING: otel ? 'otel' : 'off', HERALD_NODE_ID: 'dev-1' }) });
  return { api: dev, gw: dev, stop: () => dev.kill() };
}

function suite(name: string, start: () => Promise<Deployment>, otel: boolean): void {
  describe(name, () => {
    let d: Deployment;
    const clients: WsTestClient[] = [];

    beforeAll(async () => {
      d = await start();
    });
    afterAll(async () => {
      for (const c of clients) c.terminate();
      await d?.stop();
    });

    const subscriber = async (topic: string): Promise<WsTestClient> => {
      const token = await signToken({ secret: SECRET, sub: 'u1', topics: [topic], ttlSec: 600 });
      const c = await connectWs(`ws://127.0.0.1:${d.gw.port}/v1/ws`, { token });
      clients.push(c);
      expect(await c.request({ op: 'sub', id: 's', topics: [topic] })).toMatchObject({ op: 'ack', results: { [`topic:${topic}`]: { ok: true } } });
      return c;
    };
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; reqId: string | null; json: Rec }> => {
      const res = await fetch(`http://127.0.0.1:${d.api.port}${path}`, {
        method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
      });
      return { status: res.status, reqId: res.headers.get('x-request-id'), json: (await res.json()) as Rec };
    };
    /** The gateway's debug line for a delivered message with a request context. */
    const fanoutLog = (channel: string, seq: number): Promise<Rec> =>
      d.gw.waitLog((r) => r['msg'] === 'fan-out' && r['channel'] === channel && r['seq'] === seq && r['reqId'] !== undefined);
    const spans = (p: ServiceProcess): OtelSpan[] => p.logs().flatMap((r) => (r['otelSpan'] ? [r['otelSpan'] as OtelSpan] : []));
    const seqOf = (json: Rec): number => ((json['results'] as { seq: number }[])[0] as { seq: number }).seq;

    it('echoes a valid x-request-id; the publish API and the gateway log it with the traceparent\'s trace id', async () => {
      const ws = await subscriber('t1');
      const r = await post('/v1/publish', { topic: 't1', data: { n: 1 } }, { 'x-request-id': 'it-req-1', traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7' });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.reqId).toBe('it-req-1');
      const seq = seqOf(r.json);
      await ws.waitMessages('topic:t1', 1);
      const line = await fanoutLog('topic:t1', seq);
      expect(line).toMatchObject({ level: 20, component: 'hub', reqId: 'it-req-1', traceId: TRACE_ID, subscribers: 1 });
      const published = await d.api.waitLog((rec) => rec['msg'] === 'published' && rec['reqId'] === 'it-req-1');
      expect(published['traceId']).toBe(TRACE_ID);
    });

    it('replaces an invalid x-request-id and ignores an invalid traceparent', async () => {
      const ws = await subscriber('t2');
      const r = await post('/v1/publish', { topic: 't2', data: 2 }, { 'x-request-id': 'has spaces inside', traceparent: TRACEPARENT.toUpperCase() });
      expect(r.status).toBe(200);
      expect(r.reqId).toMatch(GENERATED_ID);
      const long = await post('/v1/publish', { topic: 't2', data: 3 }, { 'x-request-id': 'x'.repeat(129) });
      expect(long.reqId).toMatch(GENERATED_ID);
      await ws.waitMessages('topic:t2', 2);
      const line = await fanoutLog('topic:t2', seqOf(r.json));
      expect(line['reqId']).toBe(r.reqId);
      // Tracing off: no trace at all. On: a new trace, never the refused one.
      if (otel) expect(line['traceId']).toMatch(/^(?!4bf92f3577b34da6a3ce929d0e0e4736)[0-9a-f]{32}$/);
      else expect(line['traceId']).toBeUndefined();
      expect((await fanoutLog('topic:t2', seqOf(long.json)))['reqId']).toBe(long.reqId);
    });

    it('a batch carries one context for all its messages', async () => {
      const ws = await subscriber('t3');
      const r = await post('/v1/publish/batch', { messages: [{ topic: 't3', data: 1 }, { topic: 't3', data: 2 }] }, { 'x-request-id': 'it-batch', traceparent: TRACEPARENT });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      const seqs = (r.json['results'] as { results: { seq: number }[] }[]).map((x) => (x.results[0] as { seq: number }).seq);
      await ws.waitMessages('topic:t3', 2);
      for (const seq of seqs) expect(await fanoutLog('topic:t3', seq)).toMatchObject({ reqId: 'it-batch', traceId: TRACE_ID });
    });

    it(otel ? 'with tracing on, a request with neither header still carries its generated id' : 'a request with neither header carries nothing', async () => {
      const ws = await subscriber('t4');
      const bare = await post('/v1/publish', { topic: 't4', data: 'bare' });
      expect(bare.reqId).toMatch(GENERATED_ID);
      const marker = await post('/v1/publish', { topic: 't4', data: 'marker' }, { 'x-request-id': 'it-marker' });
      await ws.waitMessages('topic:t4', 2);
      await fanoutLog('topic:t4', seqOf(marker.json)); // logged after the bare one, in the same stream
      const bareLine = d.gw.logs().find((rec) => rec['msg'] === 'fan-out' && rec['channel'] === 'topic:t4' && rec['seq'] === seqOf(bare.json));
      if (otel) expect(bareLine).toMatchObject({ reqId: bare.reqId, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) });
      else expect(bareLine).toBeUndefined();
    });

    if (otel) {
      it('records the span tree publish → bus publish → fan-out in the caller\'s trace', async () => {
        const ws = await subscriber('t5');
        const r = await post('/v1/publish', { topic: 't5', data: 5 }, { 'x-request-id': 'it-span', traceparent: TRACEPARENT });
        await ws.waitMessages('topic:t5', 1);
        const fan = await waitFor(() => spans(d.gw).find((s) => s.name === 'fan-out' && s.attributes['messaging.destination.name'] === 'topic:t5'), 10_000, 'the fan-out span');
        // Walk up from the gateway's span: its parent is the bus publish span, whose parent is the request's span.
        const bus = await waitFor(() => spans(d.api).find((s) => s.spanId === fan.parentSpanId), 10_000, 'the bus publish span');
        const server = await waitFor(() => spans(d.api).find((s) => s.spanId === bus.parentSpanId), 10_000, 'the publish span');
        expect(fan).toMatchObject({ kind: 4, traceId: TRACE_ID, attributes: { 'herald.seq': seqOf(r.json), 'herald.subscribers': 1 } });
        expect(bus).toMatchObject({ name: 'bus publish', kind: 3, traceId: TRACE_ID, attributes: { 'messaging.batch.message_count': 1 } });
        expect(server).toMatchObject({
          name: 'POST /v1/publish', kind: 1, traceId: TRACE_ID, parentSpanId: PARENT_ID, status: 0,
          attributes: { 'http.route': '/v1/publish', 'http.request.method': 'POST', 'http.response.status_code': 200 },
        });
      });

      it('starts a new trace for a request without traceparent', async () => {
        const ws = await subscriber('t6');
        await post('/v1/publish', { topic: 't6', data: 6 });
        await ws.waitMessages('topic:t6', 1);
        const fan = await waitFor(() => spans(d.gw).find((s) => s.name === 'fan-out' && s.attributes['messaging.destination.name'] === 'topic:t6'), 10_000, 'the fan-out span');
        const bus = spans(d.api).find((s) => s.spanId === fan.parentSpanId);
        const server = spans(d.api).find((s) => s.spanId === bus?.parentSpanId);
        expect(bus?.name).toBe('bus publish');
        expect(server).toMatchObject({ name: 'POST /v1/publish', traceId: fan.traceId });
        expect(server?.parentSpanId).toBeUndefined();
      });
    }
  });
}

suite('trace context on NATS, OpenTelemetry on (gateway and publish API processes)', () => startNats(true), true);
suite('trace context on herald dev (memory bus), tracing off', () => startDev(false), false);
suite('trace context on herald dev (memory bus), OpenTelemetry on', () => startDev(true), true);
