/**
 * Retry timing for push services: Retry-After when they give one (RFC 9110 §10.2.3, seconds
 * or an HTTP date), else full-jitter exponential backoff; always bounded.
 * @module
 */

export interface RetryPolicy {
  /** Attempts in all, first included (default 3). */
  readonly maxAttempts: number;
  /** First backoff ceiling, ms (default 500). */
  readonly baseDelayMs: number;
  /** Longest wait between attempts, ms (default 30 s): a longer Retry-After ends the retries. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Retry-After as ms from `now`, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full-jitter backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
