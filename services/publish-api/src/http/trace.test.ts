import { describe, expect, it } from 'vitest';
import { createTracing, TRACING_OFF } from '@herald/telemetry';
import { RequestTrace, requestIdOf, type TraceHead } from './trace.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const head = (h: Partial<TraceHead>): TraceHead => ({ requestId: '', traceparent: '', tracestate: '', ...h });

describe('requestIdOf', () => {
  it('keeps a valid client id and replaces an invalid or missing one', () => {
    expect(requestIdOf(head({ requestId: 'client-42' }))).toBe('client-42');
    for (const bad of ['', 'has space', 'x'.repeat(129), 'caf\u00e9']) {
      const id = requestIdOf(head({ requestId: bad }));
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f]{6}-[0-9a-z]+$/);
    }
  });
});

describe('RequestTrace (tracing off)', () => {
  it('carries the request id and the incoming trace context as received', () => {
    const t = new RequestTrace('r1', head({ requestId: 'r1', traceparent: TP, tracestate: 'rojo=1' }), TRACING_OFF, 'POST /v1/publish', {});
    expect(t.span).toBeUndefined();
    expect(t.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const c = t.busContext(1);
    expect(c.trace).toEqual({ reqId: 'r1', traceparent: TP, tracestate: 'rojo=1' });
    c.end();
  });

  it('ignores an invalid traceparent (and the tracestate beside it)', () => {
    const t = new RequestTrace('r2', head({ traceparent: TP.toUpperCase(), tracestate: 'rojo=1' }), TRACING_OFF, 'POST /v1/publish', {});
    expect(t.traceId).toBeUndefined();
    expect(t.busContext(3).trace).toEqual({ reqId: 'r2' });
  });
});

describe('RequestTrace (otel, no SDK registered)', () => {
  it('continues the incoming trace: the API hands back the caller\'s context', () => {
    const t = new RequestTrace('r3', head({ traceparent: TP }), createTracing('otel'), 'POST /v1/publish', {});
    expect(t.span).toBeDefined();
    expect(t.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const c = t.busContext(1);
    expect(c.trace.reqId).toBe('r3');
    expect(c.trace.traceparent).toBe(TP);
    c.end();
    t.span?.end();
  });
});
