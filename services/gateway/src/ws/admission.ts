/** Synchronous upgrade admission: draining, Origin allow-list, node capacity, upgrade rates. */
import type { Connections } from './connections.js';
import { KeyedBuckets, TokenBucket } from './rate.js';
import { normalizeOrigin, type UpgradeHead } from './upgrade-head.js';

/** An HTTP refusal of an upgrade or an SSE request (the body is the contract's error object). */
export interface Refusal {
  readonly status: 400 | 401 | 403 | 429 | 500 | 503;
  readonly code: string;
  readonly message: string;
  /** Seconds for `Retry-After` (503 and rate 429s). */
  readonly retryAfterS?: number;
}

/**
 * Retry-After values, seconds. A draining node will not come back: 1 s sends the client to
 * the load balancer (and another node) quickly; a full node needs longer to free slots.
 */
export const RETRY_AFTER_DRAINING_S = 1;
export const RETRY_AFTER_FULL_S = 5;
export const RETRY_AFTER_RATE_S = 1;

/** The answer to every upgrade once draining began. */
export const DRAINING_REFUSAL: Refusal = Object.freeze({
  status: 503,
  code: 'draining',
  message: 'node is draining; reconnect to another node',
  retryAfterS: RETRY_AFTER_DRAINING_S,
});

export interface AdmissionOptions {
  /** Allowed origins; undefined (or containing `*`) allows any. */
  readonly allowedOrigins: readonly string[] | undefined;
  readonly connections: Pick<Connections, 'hasRoom'>;
  /** UPGRADE_RATE per second (burst = rate). */
  readonly upgradeRate: number;
  /** MAX_UPGRADES_PER_IP_RATE per second (burst = rate); undefined: no per-IP limit. */
  readonly perIpRate: number | undefined;
}

/**
 * The synchronous gate in front of token verification, checked in this order: draining
 * (503) → Origin (403) → node capacity (503) → node upgrade rate (503) → per-IP rate (429).
 * Cheap refusals come first and do not spend rate tokens.
 */
export class Admission {
  /** Set by drain: every upgrade from then on is refused with 503. */
  draining = false;
  readonly #origins: ReadonlySet<string> | undefined;
  readonly #connections: AdmissionOptions['connections'];
  readonly #rate: TokenBucket;
  readonly #perIp: KeyedBuckets | undefined;

  constructor(opts: AdmissionOptions, now = Date.now()) {
    const list = opts.allowedOrigins;
    this.#origins = list === undefined || list.includes('*') ? undefined : new Set(list.map(normalizeOrigin));
    this.#connections = opts.connections;
    this.#rate = new TokenBucket(opts.upgradeRate, opts.upgradeRate, now);
    this.#perIp = opts.perIpRate === undefined ? undefined : new KeyedBuckets(opts.perIpRate, opts.perIpRate);
  }

  /** A refusal, or undefined when the upgrade may go on to token verification. */
  check(head: Pick<UpgradeHead, 'origin' | 'ip'>, now = Date.now()): Refusal | undefined {
    if (this.draining) return DRAINING_REFUSAL;
    if (!this.originAllowed(head.origin)) return { status: 403, code: 'origin_not_allowed', message: 'origin not allowed' };
    if (!this.#connections.hasRoom()) return { status: 503, code: 'overloaded', message: 'node is at its connection limit', retryAfterS: RETRY_AFTER_FULL_S };
    if (!this.#rate.take(now)) return { status: 503, code: 'overloaded', message: 'node upgrade rate exceeded', retryAfterS: RETRY_AFTER_RATE_S };
    if (this.#perIp !== undefined && !this.#perIp.take(head.ip, now)) {
      return { status: 429, code: 'rate_limited', message: 'too many connection attempts from this address', retryAfterS: RETRY_AFTER_RATE_S };
    }
    return undefined;
  }

  /** A request without Origin is not a browser's and passes (PROTOCOL §1). */
  originAllowed(origin: string): boolean {
    return origin.length === 0 || this.#origins === undefined || this.#origins.has(normalizeOrigin(origin));
  }

  /** Forgets idle per-IP buckets (from the node's periodic sweep). */
  sweep(now = Date.now()): void {
    this.#perIp?.sweep(now);
  }
}
