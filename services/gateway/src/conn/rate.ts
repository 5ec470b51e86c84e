/** Token buckets: node upgrade rate, per-IP upgrade rate, and the per-connection command rate. */

/**
 * Refills a bucket held in plain numbers and takes one token.
 * Returns the new token count, or -1 when the bucket is empty (nothing is taken then).
 */
export function refillAndTake(tokens: number, lastMs: number, nowMs: number, ratePerSec: number, burst: number): number {
  const elapsed = nowMs - lastMs;
  const filled = elapsed > 0 ? Math.min(burst, tokens + (elapsed * ratePerSec) / 1000) : tokens;
  return filled >= 1 ? filled - 1 : -1;
}

/** A token bucket object (the per-connection bucket lives in ConnState fields instead). */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token; false when empty. */
  take(now: number): boolean {
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.ratePerSec) / 1000);
      this.#last = now;
    }
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** True when the bucket would be full by `now` (an idle per-IP bucket can be forgotten). */
  isFull(now: number): boolean {
    return this.#tokens + ((now - this.#last) * this.ratePerSec) / 1000 >= this.burst;
  }
}

/**
 * Per-key buckets (upgrades per IP). Idle buckets are swept so the map stays bounded by
 * the number of recently active addresses.
 */
export class KeyedBuckets {
  readonly #buckets = new Map<string, TokenBucket>();
  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
  ) {}

  take(key: string, now: number): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      b = new TokenBucket(this.ratePerSec, this.burst, now);
      this.#buckets.set(key, b);
    }
    return b.take(now);
  }

  /** Forgets buckets that refilled completely (called from the node's periodic sweep). */
  sweep(now: number): void {
    for (const [k, b] of this.#buckets) if (b.isFull(now)) this.#buckets.delete(k);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
