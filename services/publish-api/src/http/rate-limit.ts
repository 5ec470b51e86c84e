/** Per-API-key token buckets: how many requests a backend may send per second. */

/**
 * Token buckets keyed by API-key index. The key set is fixed by configuration, so the
 * table cannot grow with traffic.
 */
export class RateLimiter {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<number, { tokens: number; at: number }>();

  /**
   * @param ratePerSecond refill rate; 0 disables limiting (every `take` succeeds).
   * @param burst bucket capacity; default one second's worth of requests.
   * @param now clock in ms (injected by tests).
   */
  constructor(ratePerSecond: number, burst?: number, now: () => number = () => performance.now()) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst ?? Math.max(1, ratePerSecond);
    this.#now = now;
  }

  get enabled(): boolean {
    return this.#ratePerMs > 0;
  }

  /** Takes one token for `key`. Returns 0 when allowed, else the ms until a token is available. */
  take(key: number): number {
    if (!this.enabled) return 0;
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#ratePerMs);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.#ratePerMs);
  }
}
