// MemoryBus: the shared contract plus what only the in-process bus does (age on a fake clock, caps, re-entrancy).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { busContract } from '../test/bus.contract.js';
import type { BusMessage } from './bus.js';
import { BusError } from './errors.js';
import { MemoryBus } from './memory-bus.js';

busContract('MemoryBus', ({ history }) => {
  const bus = new MemoryBus({ history });
  return Promise.resolve({ bus, cleanup: () => bus.close() });
});

describe('MemoryBus', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('evicts by age on read and on publish, and says so with complete: false', async () => {
    vi.useFakeTimers();
    const bus = new MemoryBus({ history: { maxAgeMs: 1_000 } });
    const a = await bus.publish({ channel: 'topic:t', data: '1' });
    vi.advanceTimersByTime(600);
    const b = await bus.publish({ channel: 'topic:t', data: '2' });
    vi.advanceTimersByTime(600);
    const page = await bus.history('topic:t');
    expect(page.messages.map((m) => m.seq)).toEqual([b.seq]);
    expect(page.complete).toBe(false);
    expect((await bus.history('topic:t', { since: a.seq })).complete).toBe(true);
    vi.advanceTimersByTime(600);
    const c = await bus.publish({ channel: 'topic:t', data: '3' });
    expect((await bus.history('topic:t')).messages.map((m) => [m.seq, m.prev])).toEqual([[c.seq, 0]]); // b aged out before c: history holds nothing before c
    expect((await bus.history('topic:t', { since: a.seq })).complete).toBe(false);
  });

  it('forgets ids after the dedupe window', async () => {
    vi.useFakeTimers();
    const bus = new MemoryBus({ history: { dedupeWindowMs: 1_000 } });
    const first = await bus.publish({ channel: 'topic:t', data: '1', id: 'k' });
    vi.advanceTimersByTime(999);
    expect((await bus.publish({ channel: 'topic:t', data: '1', id: 'k' })).duplicate).toBe(true);
    vi.advanceTimersByTime(2);
    const later = await bus.publish({ channel: 'topic:t', data: '1', id: 'k' });
    expect(later).toMatchObject({ duplicate: false });
    expect(later.seq).toBeGreaterThan(first.seq);
  });

  it('caps remembered ids', async () => {
    const bus = new MemoryBus({ maxDedupeEntries: 2 });
    await bus.publish({ channel: 'topic:t', data: '1', id: 'a' });
    await bus.publish({ channel: 'topic:t', data: '1', id: 'b' });
    await bus.publish({ channel: 'topic:t', data: '1', id: 'c' });
    expect((await bus.publish({ channel: 'topic:t', data: '1', id: 'c' })).duplicate).toBe(true);
    expect((await bus.publish({ channel: 'topic:t', data: '1', id: 'a' })).duplicate).toBe(false);
  });

  it('drops the least recently published channel beyond the channel cap', async () => {
    const bus = new MemoryBus({ maxChannels: 2 });
    const a1 = await bus.publish({ channel: 'topic:a', data: '1' });
    await bus.publish({ channel: 'topic:b', data: '1' });
    await bus.publish({ channel: 'topic:a', data: '2' }); // a is now the most recent
    await bus.publish({ channel: 'topic:c', data: '1' }); // drops b
    expect((await bus.history('topic:a')).messages).toHaveLength(2);
    const b = await bus.history('topic:b');
    expect(b).toMatchObject({ messages: [], complete: false });
    expect((await bus.history('topic:a', { since: a1.seq })).complete).toBe(true);
    const b2 = await bus.publish({ channel: 'topic:b', data: '2' });
    const after = await bus.history('topic:b');
    expect(after.messages.map((m) => [m.seq, m.prev])).toEqual([[b2.seq, 0]]);
    expect(after.complete).toBe(false);
    expect((await bus.history('topic:b', { since: b2.seq })).complete).toBe(true);
  });

  it('delivers a publish made from a handler after the current message', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    await bus.subscribe('topic:a', (m) => {
      seen.push(`a${m.data}`);
      if (m.data === '1') void bus.publish({ channel: 'topic:b', data: '1' });
    });
    await bus.subscribe('topic:b', (m) => {
      seen.push(`b${m.data}`);
      if (m.data === '1') void bus.publish({ channel: 'topic:a', data: '2' });
    });
    await bus.publish({ channel: 'topic:a', data: '1' });
    expect(seen).toEqual(['a1', 'b1', 'a2']);
  });

  it('keeps delivering when a handler throws', async () => {
    const bus = new MemoryBus();
    const got: BusMessage[] = [];
    await bus.subscribe('topic:a', (m) => {
      got.push(m);
      throw new Error('boom');
    });
    await bus.publish({ channel: 'topic:a', data: '1' });
    await bus.publish({ channel: 'topic:a', data: '2' });
    expect(got).toHaveLength(2);
  });

  it('rejects with closed after close and reports the status', async () => {
    const bus = new MemoryBus();
    const statuses: string[] = [];
    bus.onStatus((s) => statuses.push(s));
    expect(bus.isConnected()).toBe(true);
    await bus.close();
    expect(bus.isConnected()).toBe(false);
    expect(statuses).toEqual(['closed']);
    const err: unknown = await bus.publish({ channel: 'topic:a', data: '1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('closed');
  });

  it('clamps history limits to MAX_HISTORY_LIMIT and pages through', async () => {
    const bus = new MemoryBus({ history: { maxPerChannel: 2000 } });
    for (let i = 0; i < 1500; i++) await bus.publish({ channel: 'topic:a', data: String(i) });
    const page = await bus.history('topic:a', { limit: 5000 });
    expect(page.messages).toHaveLength(1000);
    expect(page.truncated).toBe(true);
    const next = await bus.history('topic:a', { since: page.messages.at(-1)?.seq ?? 0, limit: 1000 });
    expect(next.messages).toHaveLength(500);
    expect(next.truncated).toBe(false);
  });

  it('delivers a publish\'s request context with the live message only (history never returns it)', async () => {
    const bus = new MemoryBus();
    const got: BusMessage[] = [];
    await bus.subscribe('topic:a', (m) => got.push(m));
    const trace = { reqId: 'req-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
    await bus.publish({ channel: 'topic:a', data: '1', trace });
    await bus.publish({ channel: 'topic:a', data: '2' });
    expect(got.map((m) => m.trace)).toEqual([trace, undefined]);
    expect('trace' in (got[1] as BusMessage)).toBe(false);
    expect((await bus.history('topic:a')).messages.map((m) => m.trace)).toEqual([undefined, undefined]);
  });
});
