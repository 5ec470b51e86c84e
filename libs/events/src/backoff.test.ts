import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoff', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    const o = { baseMs: 100, capMs: 1000 };
    expect(backoffDelay(0, o, () => 0.999)).toBe(99);
    expect(backoffDelay(3, o, () => 0.999)).toBe(799);
    expect(backoffDelay(50, o, () => 0.999)).toBe(999);
    expect(backoffDelay(5, o, () => 0)).toBe(0);
  });
});
