import { describe, expect, it } from 'vitest';
import { backoffDelay, SLOW_BACKOFF_STEPS } from './backoff.js';

describe('backoffDelay (full jitter)', () => {
  it('draws from [0, base·2^n)', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(0);
    expect(backoffDelay(0, 500, 30_000, () => 0.999999)).toBe(499);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(2000); // ceiling 4000
  });
  it('applies the cap before the jitter', () => {
    expect(backoffDelay(6, 500, 30_000, () => 0.999999)).toBe(29_999); // 500·64 = 32 000 → capped
    expect(backoffDelay(1000, 500, 30_000, () => 0.5)).toBe(15_000); // no overflow for huge n
  });
  it('spreads: the mean of many draws is about half the ceiling', () => {
    let sum = 0;
    for (let i = 0; i < 2000; i++) sum += backoffDelay(2, 500, 30_000);
    expect(sum / 2000).toBeGreaterThan(800);
    expect(sum / 2000).toBeLessThan(1200);
  });
  it('slow backoff starts 4 steps later (4029)', () => {
    expect(backoffDelay(0 + SLOW_BACKOFF_STEPS, 500, 30_000, () => 0.999999)).toBe(7999);
  });
});
