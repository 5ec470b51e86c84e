import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BusMessage } from '@herald/bus';
import { createLogger, createTracing, TRACING_OFF } from '@herald/telemetry';
import { traceFanout } from './fanout-trace.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function capture(level: 'info' | 'debug'): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level, node: 'gw', destination }), lines };
}

const msg = (extra: Partial<BusMessage> = {}): BusMessage => ({ channel: 'topic:a', seq: 7, prev: 6, ts: Date.now(), data: '1', ...extra });

describe('traceFanout', () => {
  it('is the fan-out itself when neither debug nor tracing is on', () => {
    const onMessage = (): void => undefined;
    expect(traceFanout(onMessage, { log: capture('info').log, tracing: TRACING_OFF, count: () => 0 })).toBe(onMessage);
  });

  it('logs a delivered message\'s request id and trace id at debug, and nothing for one without context', () => {
    const { log, lines } = capture('debug');
    const seen: number[] = [];
    const h = traceFanout((m) => seen.push(m.seq), { log, tracing: TRACING_OFF, count: () => 2 });
    h(msg({ trace: { reqId: 'req-9', traceparent: TP } }));
    h(msg({ seq: 8 }));
    expect(seen).toEqual([7, 8]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 20, msg: 'fan-out', channel: 'topic:a', seq: 7, reqId: 'req-9', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', subscribers: 2 });
  });

  it('logs a request id beyond the publish API\'s rules (a direct NATS publisher) as invalid', () => {
    const { log, lines } = capture('debug');
    const h = traceFanout(() => undefined, { log, tracing: TRACING_OFF, count: () => 0 });
    h(msg({ trace: { reqId: 'x'.repeat(500) } }));
    expect(lines[0]).toMatchObject({ reqId: '[invalid]' });
  });

  it('with tracing on (no SDK) still delivers and keeps the message\'s trace id', () => {
    const { log, lines } = capture('debug');
    const seen: number[] = [];
    const h = traceFanout((m) => seen.push(m.seq), { log, tracing: createTracing('otel'), count: () => 0 });
    h(msg({ trace: { reqId: 'r', traceparent: TP } }));
    expect(seen).toEqual([7]);
    expect(lines[0]).toMatchObject({ reqId: 'r', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' });
  });
});
