/**
 * Opening the NATS side of Web Push: the subscriptions and claims KV buckets of a prefix.
 * @module
 */
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { KvPushClaims } from './claims.js';
import { KvSubscriptionStore } from './kv-store.js';
import { KvPushRateLimiter } from './kv-rate-limit.js';
import { pushNames, type PushNames } from './names.js';

export interface OpenKvPushOptions {
  readonly nc: NatsConnection;
  /** Subject prefix (HERALD_NATS_PREFIX); default `herald`. */
  readonly prefix?: string;
  /** Bucket replicas (3 on a 3-server cluster). */
  readonly replicas?: number;
  readonly maxPerUser?: number;
  /** How long claims are remembered, ms (default 24 h): a message retried later than this can be pushed again. */
  readonly claimMaxAgeMs?: number;
  readonly timeoutMs?: number;
  /** Clock of the claims (tests). */
  readonly now?: () => number;
}

export interface KvPush {
  readonly names: PushNames;
  readonly store: KvSubscriptionStore;
  readonly claims: KvPushClaims;
  /** A per-user rate limit shared by every replica (kept in the claims bucket); 0 = no limit. */
  rateLimiter(perMinute: number): KvPushRateLimiter;
}

export async function openKvPush(options: OpenKvPushOptions): Promise<KvPush> {
  const names = pushNames(options.prefix);
  const kvm = new Kvm(jetstream(options.nc, { timeout: options.timeoutMs ?? 5000 }));
  const replicas = options.replicas ?? 1;
  const subs: KV = await kvm.create(names.subscriptionsBucket, { history: 1, replicas });
  const claims: KV = await kvm.create(names.claimsBucket, { history: 1, replicas, ttl: options.claimMaxAgeMs ?? 86_400_000 });
  return {
    names,
    store: new KvSubscriptionStore(subs, options.maxPerUser !== undefined ? { maxPerUser: options.maxPerUser } : {}),
    claims: new KvPushClaims(claims, options.now ? { now: options.now } : {}),
    rateLimiter: (perMinute) => new KvPushRateLimiter(claims, { perMinute, ...(options.now ? { now: options.now } : {}) }),
  };
}
