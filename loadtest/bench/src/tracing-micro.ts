/**
 * The tracing scenario's in-process part: the CPU of each piece of code request ids, trace
 * context and spans add, per request or per message, measured on its own (ns per operation,
 * best of 7 runs). End-to-end runs on a shared 2-core machine cannot resolve a few µs against
 * the ~300 µs a per-user message costs on NATS; these figures can. The pieces are the real ones
 * (the publish API's RequestTrace, the bus's header code, the gateway's fan-out wrapper), imported
 * from the built workspace packages.
 * @module
 */
import { headers } from '@nats-io/transport-node';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger, createTracing, TRACING_OFF, type Tracing } from '@herald/telemetry';
import type { BusMessage } from '@herald/bus';
// The bus's header code through its bench/diagnostic entry (not in its public API).
import { headerValue, setTraceHeaders, HDR_REQUEST_ID } from '@herald/bus/internals';
// Internals of the services (not in their public exports), built before the bench runs.
import { RequestTrace, requestIdOf, type TraceHead } from '../../../services/publish-api/dist/http/trace.js';
import { traceFanout } from '../../../services/gateway/dist/fanout-trace.js';

export interface MicroRow { what: string; off: number; headers: number; otelApi: number; otelSdk: number }

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const NO_HEADERS: TraceHead = { requestId: '', traceparent: '', tracestate: '' };
const TRACED: TraceHead = { requestId: 'bench-req-0001', traceparent: TP, tracestate: '' };
let sink = 0;

/**
 * ns per call of `fn`: the best of 7 runs of `n` calls after a warm-up. The best, not the median:
 * on a shared machine the other runs measure the neighbours as much as the code.
 */
function nsPerOp(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < n; i++) fn(i);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
  }
  return best;
}

/** Publish API, per request: the request id, the trace context, the spans, the context its messages carry. */
function publishSide(head: TraceHead, tracing: Tracing | undefined): (i: number) => void {
  return () => {
    const reqId = requestIdOf(head);
    if (tracing === undefined) { sink += reqId.length; return; }
    const t = new RequestTrace(reqId, head, tracing, 'POST /v1/publish', { 'http.request.method': 'POST', 'http.route': '/v1/publish' });
    const c = t.busContext(1);
    c.end();
    t.span?.setAttribute('http.response.status_code', 200);
    t.span?.end();
    sink += c.trace.reqId.length;
  };
}

/** JetStream publisher, per message: its header block, built and encoded as the client does. */
function natsHeaders(withTrace: boolean): () => void {
  const ctx = { reqId: 'bench-req-0001', traceparent: TP };
  return () => {
    const h = headers();
    h.set('Herald-Ts', '1767222000000');
    h.set('Nats-Expected-Stream', 'HERALD');
    if (withTrace) setTraceHeaders(h, ctx);
    sink += (h as unknown as { encode(): Uint8Array }).encode().length;
  };
}

/** Gateway, per live message: reading the request context from the republished header block. */
function gatewayRead(withTrace: boolean): () => void {
  const base = 'NATS/1.0\r\nHerald-Ts: 1767222000000\r\nNats-Expected-Stream: HERALD\r\nNats-Stream: HERALD\r\nNats-Subject: herald.in.user.dTEyMw\r\nNats-Sequence: 123456\r\nNats-Time-Stamp: 2026-12-07T04:00:00.123456789Z\r\nNats-Last-Sequence: 123400\r\n';
  const block = withTrace ? `${base}Herald-Request-Id: bench-req-0001\r\ntraceparent: ${TP}\r\n\r\n` : `${base}\r\n`;
  return () => {
    const reqId = headerValue(block, HDR_REQUEST_ID);
    if (reqId !== undefined) sink += (headerValue(block, 'traceparent')?.length ?? 0) + (headerValue(block, 'tracestate')?.length ?? 0);
  };
}

/** Gateway, per live message: the fan-out wrapper around a fan-out that does nothing (info level, as in production). */
function gatewayFanout(tracing: Tracing, withTrace: boolean): () => void {
  const log = createLogger({ level: 'info', node: 'bench', destination: { write: () => true } as unknown as NodeJS.WritableStream });
  const h = traceFanout(() => { sink++; }, { log, tracing, count: () => 2 });
  const m: BusMessage = withTrace
    ? { channel: 'user:123', seq: 1, prev: 0, ts: 0, data: '{}', trace: { reqId: 'bench-req-0001', traceparent: TP } }
    : { channel: 'user:123', seq: 1, prev: 0, ts: 0, data: '{}' };
  return () => h(m);
}

/** Every piece in the four modes of the end-to-end runs (tracing.ts). The SDK is registered last, in this process. */
export function runTracingMicro(n = 200_000): MicroRow[] {
  const otel = createTracing('otel');
  const rows: MicroRow[] = [
    { what: 'publish API, per request: request id, trace context, spans, carried context', off: nsPerOp(n, publishSide(NO_HEADERS, undefined)), headers: nsPerOp(n, publishSide(TRACED, TRACING_OFF)), otelApi: nsPerOp(n, publishSide(TRACED, otel)), otelSdk: NaN },
    { what: 'JetStream publisher, per message: header block built and encoded', off: nsPerOp(n, natsHeaders(false)), headers: nsPerOp(n, natsHeaders(true)), otelApi: NaN, otelSdk: NaN },
    { what: 'gateway, per live message: request context read from the header block', off: nsPerOp(n, gatewayRead(false)), headers: nsPerOp(n, gatewayRead(true)), otelApi: NaN, otelSdk: NaN },
    { what: 'gateway, per live message: fan-out wrapper (info level)', off: nsPerOp(n, gatewayFanout(TRACING_OFF, false)), headers: nsPerOp(n, gatewayFanout(TRACING_OFF, true)), otelApi: nsPerOp(n, gatewayFanout(otel, true)), otelSdk: NaN },
  ];
  // Every span recorded by the SDK, then dropped (no exporter): Herald's spans plus the SDK's recording.
  const drop: SpanProcessor = { onStart: () => undefined, onEnd: () => undefined, forceFlush: () => Promise.resolve(), shutdown: () => Promise.resolve() };
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [drop] }));
  const sdk = createTracing('otel');
  (rows[0] as MicroRow).otelSdk = nsPerOp(n / 4, publishSide(TRACED, sdk));
  (rows[3] as MicroRow).otelSdk = nsPerOp(n / 4, gatewayFanout(sdk, true));
  for (const r of rows) {
    if (Number.isNaN(r.otelApi)) r.otelApi = r.headers;
    if (Number.isNaN(r.otelSdk)) r.otelSdk = r.otelApi;
  }
  trace.disable();
  if (sink === -1) process.stdout.write('');
  return rows;
}

export function renderMicro(rows: MicroRow[]): string {
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
  const L = [
    'CPU of each piece on its own (ns per operation, best of 7 runs in the bench process; `off` is the path of a request without either header, tracing off; `otel-sdk`: the SDK registered, every span recorded, none exported):',
    '',
    '| piece | off | headers | otel-api | otel-sdk |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.what} | ${f(r.off)} | ${f(r.headers)} | ${f(r.otelApi)} | ${f(r.otelSdk)} |`),
  ];
  return L.join('\n') + '\n';
}
