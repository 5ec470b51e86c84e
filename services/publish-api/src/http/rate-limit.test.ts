// Unit tests of the per-key token buckets, on an injected clock.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('is off at rate 0', () => {
    const rl = new RateLimiter(0);
    expect(rl.enabled).toBe(false);
    for (let i = 0; i < 10_000; i++) expect(rl.take(0)).toBe(0);
  });

  it('allows a burst, then refills at the rate', () => {
    let now = 0;
    const rl = new RateLimiter(10, 5, () => now);
    for (let i = 0; i < 5; i++) expect(rl.take(0)).toBe(0);
    expect(rl.take(0)).toBe(100); // one token per 100 ms
    now += 100;
    expect(rl.take(0)).toBe(0);
    expect(rl.take(0)).toBeGreaterThan(0);
  });

  it('keeps one bucket per key', () => {
    const now = 0;
    const rl = new RateLimiter(1, 1, () => now);
    expect(rl.take(0)).toBe(0);
    expect(rl.take(0)).toBeGreaterThan(0);
    expect(rl.take(1)).toBe(0);
  });

  it('defaults the burst to one second of requests', () => {
    const now = 0;
    const rl = new RateLimiter(3, undefined, () => now);
    expect([rl.take(0), rl.take(0), rl.take(0)]).toEqual([0, 0, 0]);
    expect(rl.take(0)).toBeGreaterThan(0);
  });
});
