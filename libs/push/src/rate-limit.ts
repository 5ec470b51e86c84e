/**
 * Per-user push rate limit: a token bucket per user (burst = the per-minute rate). This one
 * lives in the process (memory mode, or a per-replica bound); KvPushRateLimiter shares the
 * buckets across replicas.
 * @module
 */

/** A per-user rate limit the dispatcher asks before each push. */
export interface RateLimit {
  /** Takes one push for `user`; false when the user is over the limit. */
  take(user: string): boolean | Promise<boolean>;
}

export interface RateLimiterOptions {
  /** Pushes per user per minute; 0 = no limit. */
  readonly perMinute: number;
  /** Users tracked; beyond it the least recently seen is forgotten (default 100,000). */
  readonly maxUsers?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class PushRateLimiter implements RateLimit {
  readonly #perMinute: number;
  readonly #maxUsers: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    this.#perMinute = options.perMinute;
    this.#maxUsers = options.maxUsers ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for `user`; false when the user is over the limit. */
  take(user: string): boolean {
    if (this.#perMinute === 0) return true;
    const now = this.#now();
    const b = this.#buckets.get(user) ?? { tokens: this.#perMinute, at: now };
    b.tokens = Math.min(this.#perMinute, b.tokens + ((now - b.at) * this.#perMinute) / 60_000);
    b.at = now;
    this.#buckets.delete(user); // re-insert: Map order is recency
    this.#buckets.set(user, b);
    if (this.#buckets.size > this.#maxUsers) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
