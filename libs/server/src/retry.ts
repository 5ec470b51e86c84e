/** Retry policy: which failures are retried, how long to wait, when to give up. */

/** Bounds of the retries. Every field is optional in the client's options. */
export interface RetryOptions {
  /** Requests sent at most, the first included. Default 5; 1 disables retries. */
  readonly maxAttempts: number;
  /** Time allowed from the first request to the start of the last, in ms. Default 30 000. */
  readonly maxElapsedMs: number;
  /** Backoff base, in ms: attempt n waits random(0, min(cap, base·2ⁿ)). Default 200. */
  readonly baseDelayMs: number;
  /** Backoff cap, in ms. Default 5 000. */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, maxElapsedMs: 30_000, baseDelayMs: 200, maxDelayMs: 5_000 };

/**
 * HTTP statuses worth another try with the same request: 429 (rate limited), 502 and 504 (a proxy
 * in front lost the API), 503 (`bus_unavailable`: nothing or part stored; the idempotency id makes
 * the retry exactly-once). Everything else is final.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Full jitter: random(0, min(cap, base·2^(attempt-1))), attempt counting from 1. */
export function backoffMs(attempt: number, opts: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, /.test(v)) return undefined; // IMF-fixdate only: Date.parse reads too much (`-1` is a year)
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The wait before the next attempt, or undefined to give up: the backoff, but never less than the
 * server's Retry-After; give up when attempts are spent or the wait would pass the time budget.
 */
export function nextDelay(attempt: number, startedAt: number, now: number, retryAfterMs: number | undefined, opts: RetryOptions, random?: () => number): number | undefined {
  if (attempt >= opts.maxAttempts) return undefined;
  const delay = Math.max(backoffMs(attempt, opts, random), retryAfterMs ?? 0);
  return now + delay - startedAt > opts.maxElapsedMs ? undefined : delay;
}
