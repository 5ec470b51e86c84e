import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY, isRetryableStatus, nextDelay, parseRetryAfter } from './retry.js';

describe('retry policy', () => {
  it('retries 429, 502, 503 and 504 only', () => {
    expect([429, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 404, 413, 415, 500].some(isRetryableStatus)).toBe(false);
  });

  it('draws full-jitter backoff under a doubling ceiling with a cap', () => {
    const opts = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(1, opts, () => 0.999)).toBe(99);
    expect(backoffMs(3, opts, () => 0.5)).toBe(200);
    expect(backoffMs(10, opts, () => 0.999)).toBe(999);
    expect(backoffMs(1000, opts, () => 0.999)).toBe(999);
    expect(backoffMs(2, opts, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('1')).toBe(1000);
    expect(parseRetryAfter(' 30 ')).toBe(30_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('waits at least Retry-After, and gives up when attempts or time run out', () => {
    const opts = { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(nextDelay(1, 0, 0, 2000, opts, () => 0.5)).toBe(2000);
    expect(nextDelay(1, 0, 0, undefined, opts, () => 0.5)).toBe(50);
    expect(nextDelay(3, 0, 0, undefined, opts)).toBeUndefined();
    expect(nextDelay(1, 0, 9000, 2000, opts)).toBeUndefined();
    expect(nextDelay(2, 0, 9000, 1000, opts, () => 0)).toBe(1000);
  });
});
