import { describe, expect, it } from 'vitest';
import { createTracing, TRACING_OFF } from './tracing.js';

describe('createTracing', () => {
  it('off: disabled, spans record nothing and propagate nothing', () => {
    const t = createTracing('off');
    expect(t).toBe(TRACING_OFF);
    expect(t.enabled).toBe(false);
    const s = t.start('publish', 'server', undefined);
    expect(s.traceparent).toBeUndefined();
    s.end();
  });

  it('otel without an SDK: the API is a no-op that keeps the remote parent', () => {
    const t = createTracing('otel');
    expect(t.enabled).toBe(true);
    const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 };
    const s = t.start('publish', 'server', { parent, tracestate: 'rojo=1' });
    // The no-op tracer hands back the parent's context: downstream stays in the caller's trace.
    expect(s.traceId).toBe(parent.traceId);
    expect(s.traceparent).toBe(`00-${parent.traceId}-${parent.spanId}-01`);
    expect(s.tracestate).toBe('rojo=1');
    const c = s.child('bus publish', 'producer');
    expect(c.traceId).toBe(parent.traceId);
    c.end(new Error('x'));
    s.end();
    // No parent and no SDK: no valid context, nothing to propagate.
    expect(t.start('publish', 'server', undefined).traceparent).toBeUndefined();
  });
});
