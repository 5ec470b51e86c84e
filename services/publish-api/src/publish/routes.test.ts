// Unit tests of the publish routes over a memory bus, without sockets.
import { Writable } from 'node:stream';
import { BusError, MemoryBus, type PublishRequest, type PublishResult } from '@herald/bus';
import { createLogger, createMetricsRegistry } from '@herald/telemetry';
import { describe, expect, it } from 'vitest';
import type { HttpResult } from '../http/result.js';
import { createPublishMetrics } from '../metrics.js';
import type { RequestContext, Route } from '../http/route.js';
import { publishRoutes } from './routes.js';

class FlakyBus extends MemoryBus {
  calls = 0;
  failFrom = Number.POSITIVE_INFINITY;
  failCode: 'unavailable' | 'timeout' | 'invalid' = 'unavailable';
  override publish(r: PublishRequest): Promise<PublishResult> {
    if (this.calls++ >= this.failFrom) return Promise.reject(new BusError(this.failCode, 'down'));
    return super.publish(r);
  }
}

function setup(): { bus: FlakyBus; call: (route: 'publish' | 'batch', body: unknown) => Promise<HttpResult>; lines: string[]; metrics: () => Promise<string> } {
  const bus = new FlakyBus();
  const registry = createMetricsRegistry();
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _enc, cb) => { lines.push(chunk.toString()); cb(); } });
  const ctx: RequestContext = { reqId: 'r1', debug: true, log: createLogger({ level: 'debug', node: 't', destination }).child({ reqId: 'r1' }) };
  const routes = publishRoutes({ bus, limits: { maxDataBytes: 1000, maxTargets: 10, maxBatch: 10 }, concurrency: 8, metrics: createPublishMetrics(registry) });
  const byName = new Map<string, Route>(routes.map((r) => [r.name, r]));
  const call = (route: 'publish' | 'batch', body: unknown): Promise<HttpResult> => (byName.get(route) as Route).handle({ body, query: new URLSearchParams() }, ctx);
  return { bus, call, lines, metrics: () => registry.metrics() };
}

describe('POST /v1/publish', () => {
  it('answers one result per distinct target, with seqs', async () => {
    const { call } = setup();
    const r = await call('publish', { topics: ['a', 'b', 'a'], data: { x: 1 } });
    expect(r).toEqual({ status: 200, body: { results: [{ ch: 'topic:a', seq: 1 }, { ch: 'topic:b', seq: 2 }] } });
  });

  it('answers the same results for the same id, flagged duplicate, and stores once', async () => {
    const { call, bus } = setup();
    const first = await call('publish', { users: ['1', '2'], data: 1, id: 'k1' });
    const again = await call('publish', { users: ['1', '2'], data: 1, id: 'k1' });
    expect(again.body).toEqual({ results: [{ ch: 'user:1', seq: 1, duplicate: true }, { ch: 'user:2', seq: 2, duplicate: true }] });
    expect(first.body).toEqual({ results: [{ ch: 'user:1', seq: 1 }, { ch: 'user:2', seq: 2 }] });
    expect((await bus.history('user:1')).messages).toHaveLength(1);
  });

  it('answers validation failures without publishing', async () => {
    const { call, bus } = setup();
    const r = await call('publish', { topic: 'bad name', data: 1 });
    expect(r).toMatchObject({ status: 400, code: 'invalid_target' });
    expect(bus.calls).toBe(0);
  });

  it('answers 503 with Retry-After when the bus is down, saying nothing was stored', async () => {
    const { call, bus } = setup();
    bus.failFrom = 0;
    const r = await call('publish', { topic: 'a', data: 1, id: 'x' });
    expect(r.status).toBe(503);
    expect(r.headers).toEqual([['retry-after', '1']]);
    expect(r.body).toEqual({ error: { code: 'bus_unavailable', message: expect.stringContaining('nothing was stored') as string } });
  });

  it('says how much was stored when a multi-target publish fails midway, and warns without an id', async () => {
    const { call, bus } = setup();
    bus.failFrom = 2;
    const r = await call('publish', { topics: ['a', 'b', 'c', 'd'], data: 1 });
    expect(r.status).toBe(503);
    const message = (r.body as { error: { message: string } }).error.message;
    expect(message).toContain('2 of 4');
    expect(message).toContain('without an id');
  });

  it('says a timed-out publish may be stored', async () => {
    const { call, bus } = setup();
    bus.failFrom = 0;
    bus.failCode = 'timeout';
    const r = await call('publish', { topic: 'a', data: 1, id: 'x' });
    expect(r.status).toBe(503);
    expect(JSON.stringify(r.body)).toContain('may or may not be stored');
  });

  it('answers 500 for a bus error a retry cannot cure', async () => {
    const { call, bus } = setup();
    bus.failFrom = 0;
    bus.failCode = 'invalid';
    expect(await call('publish', { topic: 'a', data: 1 })).toMatchObject({ status: 500, code: 'internal' });
  });

  it('logs counts, never the data, and counts messages in metrics', async () => {
    const { call, lines, metrics } = setup();
    await call('publish', { topics: ['a', 'b'], data: 'SECRET-PAYLOAD', id: 'i1' });
    await call('publish', { topics: ['a', 'b'], data: 'SECRET-PAYLOAD', id: 'i1' });
    const log = lines.join('');
    expect(log).not.toContain('SECRET-PAYLOAD');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ msg: 'published', reqId: 'r1', route: 'publish', messages: 1, targets: 2, duplicates: 0 });
    const text = await metrics();
    expect(text).toMatch(/herald_publish_messages_total\{result="stored"\} 2/);
    expect(text).toMatch(/herald_publish_messages_total\{result="duplicate"\} 2/);
    expect(text).toMatch(/herald_publish_duration_seconds_count\{route="publish"\} 2/);
  });
});

describe('POST /v1/publish/batch', () => {
  it('answers per message what /v1/publish would, in order', async () => {
    const { call } = setup();
    const r = await call('batch', { messages: [{ topic: 'a', data: 1 }, { users: ['1', '2'], data: 2 }, { topic: 'a', data: 3 }] });
    expect(r.body).toEqual({
      results: [
        { results: [{ ch: 'topic:a', seq: 1 }] },
        { results: [{ ch: 'user:1', seq: 2 }, { ch: 'user:2', seq: 3 }] },
        { results: [{ ch: 'topic:a', seq: 4 }] },
      ],
    });
  });

  it('publishes nothing when one message is bad, and names its index', async () => {
    const { call, bus } = setup();
    const r = await call('batch', { messages: [{ topic: 'a', data: 1 }, { topic: 'a', data: 1, id: 'x'.repeat(65) }] });
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'invalid_id', index: 1 } } });
    expect(bus.calls).toBe(0);
  });
});
