// Unit tests of the admin routes over a memory bus, without sockets.
import { BusError, MemoryBus, type PresenceQuery } from '@herald/bus';
import { createLogger } from '@herald/telemetry';
import { describe, expect, it } from 'vitest';
import type { HttpResult } from '../http/result.js';
import type { Route } from '../http/route.js';
import { adminRoutes, toHistoryEntry } from './routes.js';

class DownBus extends MemoryBus {
  override presence(_q: PresenceQuery): Promise<number> {
    return Promise.reject(new BusError('unavailable', 'down'));
  }
}

function call(bus: MemoryBus, name: string, input: { body?: unknown; query?: string }): Promise<HttpResult> {
  const route = adminRoutes(bus).find((r) => r.name === name) as Route;
  const ctx = { reqId: 'r', debug: false, log: createLogger({ level: 'silent', node: 't' }) };
  return route.handle({ body: input.body, query: new URLSearchParams(input.query ?? '') }, ctx);
}

describe('admin routes', () => {
  it('serves history entries with parsed data and the id only when present', async () => {
    const bus = new MemoryBus();
    await bus.publish({ channel: 'topic:a', data: '{"x":[1]}', id: 'i1' });
    await bus.publish({ channel: 'topic:a', data: 'null' });
    const r = await call(bus, 'history', { query: 'ch=topic:a&since=0&limit=10' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      epoch: bus.epoch(), complete: true, truncated: false,
      messages: [
        { ch: 'topic:a', seq: 1, prev: 0, ts: expect.any(Number) as number, data: { x: [1] }, id: 'i1' },
        { ch: 'topic:a', seq: 2, prev: 1, ts: expect.any(Number) as number, data: null },
      ],
    });
  });

  it('serves data that is not JSON (published straight to the bus) as a string', () => {
    expect(toHistoryEntry({ channel: 'topic:a', seq: 1, prev: 0, ts: 1, data: 'not json' }).data).toBe('not json');
  });

  it('answers presence and disconnect', async () => {
    const bus = new MemoryBus();
    await bus.serveControl('n1', { disconnect: () => 2, presence: (q) => ('user' in q ? 3 : 4) });
    expect((await call(bus, 'presence', { query: 'user=u' })).body).toEqual({ user: 'u', connections: 3 });
    expect((await call(bus, 'presence', { query: 'topic=t' })).body).toEqual({ topic: 't', subscribers: 4 });
    expect((await call(bus, 'disconnect', { body: { user: 'u', code: 1000 } })).body).toEqual({ disconnected: 2 });
  });

  it('answers 503 with Retry-After when the bus fails', async () => {
    const r = await call(new DownBus(), 'presence', { query: 'user=u' });
    expect(r).toMatchObject({ status: 503, code: 'bus_unavailable', headers: [['retry-after', '1']] });
  });
});
