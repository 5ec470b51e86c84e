/**
 * Exponential backoff with full jitter (a uniform pick in [0, min(cap, base·2^attempt)]), so
 * the retries of many events to one receiver spread out instead of arriving together.
 * @module
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 600_000 };

/** Delay before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
