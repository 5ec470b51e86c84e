// Unit tests of ordered, pipelined publishing with a scripted bus.
import { BusError, MemoryBus, type PublishRequest, type PublishResult } from '@herald/bus';
import { describe, expect, it } from 'vitest';
import { PublishFailure, countTargets, publishAll } from './publish-all.js';
import type { PublishCommand } from './validate.js';

/** A memory bus whose publishes are held until released, and can be made to fail. */
class GatedBus extends MemoryBus {
  readonly issued: string[] = [];
  maxInFlight = 0;
  #inFlight = 0;
  failOn: ((r: PublishRequest, n: number) => boolean) | undefined;

  override async publish(r: PublishRequest): Promise<PublishResult> {
    const n = this.issued.push(r.channel);
    this.#inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
    const result = super.publish(r); // seq assigned now, in issue order
    await new Promise((res) => setTimeout(res, n % 3)); // settle out of order
    this.#inFlight--;
    if (this.failOn?.(r, n)) throw new BusError('unavailable', 'down');
    return result;
  }
}

const cmd = (channels: string[], id?: string): PublishCommand => (id === undefined ? { channels, data: '1' } : { channels, data: '1', id });

describe('publishAll', () => {
  it('groups results per command, in order, with increasing seqs per channel', async () => {
    const bus = new GatedBus();
    const cmds = [cmd(['topic:a', 'topic:b']), cmd(['topic:a']), cmd(['user:1', 'topic:a'])];
    const out = await publishAll(bus, cmds, 2);
    expect(out.map((g) => g.map((r) => r.channel))).toEqual([['topic:a', 'topic:b'], ['topic:a'], ['user:1', 'topic:a']]);
    const seqsOfA = out.flat().filter((r) => r.channel === 'topic:a').map((r) => r.seq);
    expect(seqsOfA).toEqual([...seqsOfA].sort((x, y) => x - y));
    expect(bus.issued).toEqual(['topic:a', 'topic:b', 'topic:a', 'user:1', 'topic:a']);
  });

  it('keeps at most `concurrency` publishes in flight', async () => {
    const bus = new GatedBus();
    const cmds = Array.from({ length: 50 }, (_, i) => cmd([`topic:t${i}`]));
    await publishAll(bus, cmds, 4);
    expect(bus.maxInFlight).toBeLessThanOrEqual(4);
    expect(bus.maxInFlight).toBeGreaterThan(1);
  });

  it('stops issuing at the first failure and reports progress', async () => {
    const bus = new GatedBus();
    bus.failOn = (_r, n) => n === 3;
    const cmds = Array.from({ length: 20 }, (_, i) => cmd([`topic:t${i}`]));
    const err = await publishAll(bus, cmds, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishFailure);
    const f = err as PublishFailure;
    expect(f.total).toBe(20);
    expect(f.stored).toBe(2);
    expect(f.cause).toBeInstanceOf(BusError);
    expect(bus.issued.length).toBe(3);
  });

  it('counts targets', () => {
    expect(countTargets([cmd(['a', 'b']), cmd(['c'])])).toBe(3);
  });
});
