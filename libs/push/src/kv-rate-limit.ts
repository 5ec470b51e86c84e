/**
 * The per-user push rate limit shared by every replica: the token bucket of PushRateLimiter,
 * kept in the claims KV bucket (one entry per user, key `r.<base64url(user id)>`) and changed
 * with compare-and-set, so replicas × the limit cannot happen. One get and one update per push.
 * Entries of users without pushes for a day vanish with the bucket's max age.
 * @module
 */
import type { KV } from '@nats-io/kv';
import { isConflict } from './kv-store.js';
import { keyOf } from './names.js';
import type { RateLimit } from './rate-limit.js';

/** Compare-and-set attempts before letting the push through (contention on one user is rare). */
const MAX_CAS_ATTEMPTS = 5;

export class KvPushRateLimiter implements RateLimit {
  readonly #kv: KV;
  readonly #perMinute: number;
  readonly #now: () => number;

  constructor(kv: KV, options: { perMinute: number; now?: () => number }) {
    this.#kv = kv;
    this.#perMinute = options.perMinute;
    this.#now = options.now ?? Date.now;
  }

  async take(user: string): Promise<boolean> {
    if (this.#perMinute === 0) return true;
    const key = keyOf('r', user);
    for (let attempt = 1; attempt <= MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.#kv.get(key);
      const now = this.#now();
      const stored = entry && entry.operation === 'PUT' ? readBucket(entry.value) : undefined;
      const tokens = stored ? Math.min(this.#perMinute, stored.t + ((now - stored.a) * this.#perMinute) / 60_000) : this.#perMinute;
      if (tokens < 1) return false;
      const data = new TextEncoder().encode(JSON.stringify({ t: tokens - 1, a: now }));
      try {
        if (entry) await this.#kv.update(key, data, entry.revision);
        else await this.#kv.create(key, data);
        return true;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
    // Heavy contention on one user's entry: the claims still bound it to one push per message.
    return true;
  }
}

function readBucket(bytes: Uint8Array): { t: number; a: number } | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { t?: unknown; a?: unknown };
    return typeof v.t === 'number' && typeof v.a === 'number' ? { t: v.t, a: v.a } : undefined;
  } catch {
    return undefined;
  }
}
