/** Synchronous admission of a connection request (upgrade or SSE): draining, Origin allow-list, node capacity, request rates. */
import { originAllowList } from '@herald/uws';
import { KeyedBuckets, TokenBucket } from './rate.js';
import { DRAINING_REFUSAL, RETRY_AFTER_FULL_S, RETRY_AFTER_RATE_S, refusal, type Refusal } from './refusal.js';
import type { Connections } from './registry.js';

export { normalizeOrigin } from '@herald/uws';

/** What admission reads of a request: its Origin header ('' when absent) and the client address. */
export interface RequestOrigin {
  readonly origin: string;
  readonly ip: string;
}

const ORIGIN_NOT_ALLOWED = refusal('origin_not_allowed', 'origin not allowed');
const NODE_FULL = refusal('overloaded', 'node is at its connection limit', RETRY_AFTER_FULL_S);
const NODE_RATE = refusal('overloaded', 'node upgrade rate exceeded', RETRY_AFTER_RATE_S);
const IP_RATE = refusal('rate_limited', 'too many connection attempts from this address', RETRY_AFTER_RATE_S);


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
  readonly #originAllowed: (origin: string) => boolean;
  readonly #connections: AdmissionOptions['connections'];
  readonly #rate: TokenBucket;
  readonly #perIp: KeyedBuckets | undefined;

  constructor(opts: AdmissionOptions, now = Date.now()) {
    this.#originAllowed = originAllowList(opts.allowedOrigins);
    this.#connections = opts.connections;
    this.#rate = new TokenBucket(opts.upgradeRate, opts.upgradeRate, now);
    this.#perIp = opts.perIpRate === undefined ? undefined : new KeyedBuckets(opts.perIpRate, opts.perIpRate);
  }

  /** A refusal, or undefined when the upgrade may go on to token verification. */
  check(head: RequestOrigin, now = Date.now()): Refusal | undefined {
    if (this.draining) return DRAINING_REFUSAL;
    if (!this.originAllowed(head.origin)) return ORIGIN_NOT_ALLOWED;
    if (!this.#connections.hasRoom()) return NODE_FULL;
    if (!this.#rate.take(now)) return NODE_RATE;
    if (this.#perIp !== undefined && !this.#perIp.take(head.ip, now)) return IP_RATE;
    return undefined;
  }

  /** A request without Origin is not a browser's and passes (docs/protocol.md#connecting). */
  originAllowed(origin: string): boolean {
    return this.#originAllowed(origin);
  }

  /** Forgets idle per-IP buckets (from the node's periodic sweep). */
  sweep(now = Date.now()): void {
    this.#perIp?.sweep(now);
  }
}
