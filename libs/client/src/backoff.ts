/**
 * Exponential backoff with full jitter: attempt n waits random(0, min(cap, base·2^n)).
 * The cap applies before the jitter, so the mean wait tends to cap/2, and a crowd of
 * clients cut at once spreads over the whole window instead of returning in waves.
 * @module
 */

/** @internal */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.floor(random() * ceiling);
}

/**
 * 4029 (rate limited) asks for a long backoff: the same formula started 4 steps later,
 * so the first retry already waits up to 16 × base (8 s at the default base).
 * @internal
 */
export const SLOW_BACKOFF_STEPS = 4;
