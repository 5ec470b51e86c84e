// Unit tests of the interest table: one bus subscription per channel, linger on release, retries after failures.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus, type MessageHandler } from '@herald/bus';
import { silentLog } from '../../test/unit-helpers.js';
import { Interest } from './interest.js';

/** A real MemoryBus that records every subscribe/unsubscribe, and can be told to fail or to hold subscriptions. */
class RecordingBus extends MemoryBus {
  readonly calls: string[] = [];
  fail = false;
  hold: Promise<void> | undefined;
  override async subscribe(channel: string, handler: MessageHandler): Promise<void> {
    this.calls.push(`sub ${channel}`);
    if (this.hold) await this.hold;
    if (this.fail) throw new Error('bus down');
    return super.subscribe(channel, handler);
  }
  override async unsubscribe(channel: string): Promise<void> {
    this.calls.push(`unsub ${channel}`);
    return super.unsubscribe(channel);
  }
}

let bus: RecordingBus;
let counts: number[];
const received: string[] = [];
function table(lingerMs = 1000): Interest {
  return new Interest({ bus, onMessage: (m) => received.push(m.data), lingerMs, log: silentLog, onCount: (n) => counts.push(n) });
}

beforeEach(() => {
  vi.useFakeTimers();
  bus = new RecordingBus();
  counts = [];
  received.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Interest', () => {
  it('subscribes once for concurrent acquirers, who all wait for the confirmation', async () => {
    let release!: () => void;
    bus.hold = new Promise((r) => (release = r));
    const t = table();
    const done: number[] = [];
    const a = t.acquire('topic:a').then(() => done.push(1));
    const b = t.acquire('topic:a').then(() => done.push(2));
    await vi.advanceTimersByTimeAsync(10);
    expect(done).toEqual([]);
    release();
    await Promise.all([a, b]);
    expect(bus.calls).toEqual(['sub topic:a']);
    expect(t.count('topic:a')).toBe(2);
    await bus.publish({ channel: 'topic:a', data: '"x"' });
    expect(received).toEqual(['"x"']);
  });

  it('unsubscribes after the linger when the last holder leaves', async () => {
    const t = table(1000);
    await t.acquire('topic:a');
    await t.acquire('topic:a');
    t.release('topic:a');
    t.release('topic:a');
    await vi.advanceTimersByTimeAsync(999);
    expect(bus.calls).toEqual(['sub topic:a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(bus.calls).toEqual(['sub topic:a', 'unsub topic:a']);
    expect(t.size).toBe(0);
    expect(counts.at(-1)).toBe(0);
  });

  it('cancels the pending unsubscribe when interest returns within the linger', async () => {
    const t = table(1000);
    await t.acquire('topic:a');
    t.release('topic:a');
    await vi.advanceTimersByTimeAsync(500);
    await t.acquire('topic:a');
    await vi.advanceTimersByTimeAsync(5000);
    expect(bus.calls).toEqual(['sub topic:a']);
    expect(t.count('topic:a')).toBe(1);
  });

  it('releases at once with a zero linger, and a later acquire subscribes again after the unsubscribe', async () => {
    const t = table(0);
    await t.acquire('topic:a');
    t.release('topic:a');
    await t.acquire('topic:a');
    expect(bus.calls).toEqual(['sub topic:a', 'unsub topic:a', 'sub topic:a']);
  });

  it('rejects every acquirer when the bus refuses, forgets the channel, and retries on the next acquire', async () => {
    bus.fail = true;
    const t = table();
    const results = await Promise.allSettled([t.acquire('topic:a'), t.acquire('topic:a')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(t.size).toBe(0);
    bus.fail = false;
    await t.acquire('topic:a');
    expect(bus.calls).toEqual(['sub topic:a', 'sub topic:a']);
    expect(t.count('topic:a')).toBe(1);
  });

  it('ignores releases of unknown channels and extra releases', async () => {
    const t = table(0);
    t.release('topic:never');
    await t.acquire('topic:a');
    t.release('topic:a');
    t.release('topic:a');
    await vi.advanceTimersByTimeAsync(0);
    expect(bus.calls).toEqual(['sub topic:a', 'unsub topic:a']);
  });

  it('close unsubscribes everything, lingering channels included, and refuses later acquires', async () => {
    const t = table(1000);
    await t.acquire('topic:a');
    await t.acquire('topic:b');
    t.release('topic:b');
    await t.close();
    expect(bus.calls.filter((c) => c.startsWith('unsub')).sort()).toEqual(['unsub topic:a', 'unsub topic:b']);
    await expect(t.acquire('topic:c')).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(5000);
    expect(bus.calls.filter((c) => c === 'unsub topic:b')).toHaveLength(1);
  });
});
