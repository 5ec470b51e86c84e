/**
 * The configuration fragment of Web Push (merged into a role's schema like the fragments of
 * @herald/config), every key with its unit and default. Keys lose their `HERALD_` prefix in
 * loadConfig: `HERALD_VAPID_PRIVATE_KEY` is `VAPID_PRIVATE_KEY` here. The private key is a
 * secret (`isSecretKey` matches `PRIVATE`): `herald check-config` prints its shape only, and
 * nothing in this package logs it.
 * @module
 */
import { z } from 'zod';
import { int } from '@herald/config';
import { vapidProblem } from './vapid.js';

export const pushConfig = z
  .object({
    /** VAPID public key (base64url, 65 bytes); browsers pass it to `pushManager.subscribe`. Unset: Web Push off. */
    VAPID_PUBLIC_KEY: z.string().max(200).optional(),
    /** VAPID private key (base64url, 32 bytes). Secret. Generate both with `generateVapidKeys()`. */
    VAPID_PRIVATE_KEY: z.string().max(200).optional(),
    /** Contact of this server for push services: `mailto:ops@example.com` or an `https:` URL. */
    VAPID_SUBJECT: z.string().max(500).optional(),
    /** An inbox message not delivered for this long gets one push, ms; 0 = at once when the user has no live connection. */
    PUSH_AFTER_MS: int(0, 7 * 86_400_000).default(10_000),
    /** Pushes per user per minute (token bucket, burst of the same size; cluster-wide with KvPushRateLimiter); 0 = no limit. */
    PUSH_RATE_PER_MIN: int(0, 10_000).default(20),
    /** Subscriptions kept per user; registering one more evicts the oldest. */
    PUSH_MAX_SUBSCRIPTIONS: int(1, 100).default(10),
    /** RFC 8030 TTL of a push, s: how long the push service keeps it for an offline device (0 = deliver now or drop). */
    PUSH_TTL_S: int(0, 2_419_200).default(86_400),
    /** Timeout of one request to a push service, ms. */
    PUSH_TIMEOUT_MS: int(100, 60_000).default(10_000),
    /**
     * How long a replica's claim on a message's push protects the send, ms: a replica that died
     * after claiming is taken over after it. Keep it above the sender's worst case (3 × the
     * timeout + 2 × 30 s of Retry-After by default: 90 s).
     */
    PUSH_LEASE_MS: int(1000, 3_600_000).default(120_000),
    /** Ack wait of the push timer's consumer, ms: a message held by a replica that died is redelivered after it. */
    PUSH_ACK_WAIT_MS: int(1000, 300_000).default(30_000),
    /**
     * Origins accepted as push endpoints over `http:` or by IP address, comma-separated (exact
     * `scheme://host:port`): a test push service only. Empty in production.
     */
    PUSH_ALLOW_ORIGINS: z.string().max(2000).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.VAPID_PUBLIC_KEY === undefined && c.VAPID_PRIVATE_KEY === undefined && c.VAPID_SUBJECT === undefined) return;
    const problem = vapidProblem({ publicKey: c.VAPID_PUBLIC_KEY, privateKey: c.VAPID_PRIVATE_KEY, subject: c.VAPID_SUBJECT } as const);
    if (problem) ctx.addIssue({ code: 'custom', path: ['VAPID_PUBLIC_KEY'], message: problem });
  });

export type PushConfig = Readonly<z.infer<typeof pushConfig>>;

/** The endpoint rules of a config: `allowOrigins` from HERALD_PUSH_ALLOW_ORIGINS. */
export function subscriptionRulesOf(config: Pick<PushConfig, 'PUSH_ALLOW_ORIGINS'>): { allowOrigins: string[] } {
  return { allowOrigins: (config.PUSH_ALLOW_ORIGINS ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0) };
}

/** Whether Web Push is configured (all three VAPID keys set and valid: the schema checked them). */
export function pushEnabled(config: PushConfig): config is PushConfig & { VAPID_PUBLIC_KEY: string; VAPID_PRIVATE_KEY: string; VAPID_SUBJECT: string } {
  return config.VAPID_PUBLIC_KEY !== undefined && config.VAPID_PRIVATE_KEY !== undefined && config.VAPID_SUBJECT !== undefined;
}
