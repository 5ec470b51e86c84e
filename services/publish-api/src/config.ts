/** The publish API's configuration schema: `HERALD_*` variables, each with its unit and default. */
import { csv, historyConfig, int, jwtConfig, logConfig, natsConfig, nodeConfig, port, tracingConfig } from '@herald/config';
import { inboxConfig } from '@herald/inbox';
import { pushConfig, vapidProblem } from '@herald/push';
import { z } from 'zod';

/** Shortest accepted API key: 16 characters keep a random key out of reach of guessing. */
export const MIN_API_KEY_CHARS = 16;
/**
 * Ceiling of MAX_DATA_BYTES: NATS' default `max_payload` is 1 MiB and must also hold the
 * message headers (`Nats-Msg-Id`, ...), so 8 KiB are left for them.
 */
export const MAX_DATA_BYTES_CEILING = 1024 * 1024 - 8 * 1024;

/** API keys, comma-separated. Issues never echo a key, only its position. */
const apiKeys = csv.pipe(
  z
    .array(z.string().min(MIN_API_KEY_CHARS, `every key needs at least ${MIN_API_KEY_CHARS} characters`))
    .min(1, 'at least one API key is required'),
);

/**
 * The publish API's schema. A `ZodObject` (refinements keep the shape), so the
 * all-in-one `herald dev` can merge `.shape` with the gateway's.
 */
export const publishApiConfigSchema = z
  .object({
    ...logConfig.shape,
    ...nodeConfig.shape,
    ...natsConfig.shape,
    ...historyConfig.shape,
    ...tracingConfig.shape,
    // The inbox (docs/inbox.md), Web Push registration (docs/push.md) and the user tokens it takes.
    ...inboxConfig.shape,
    ...pushConfig.shape,
    ...jwtConfig.shape,
    /** HTTP port; 0 picks a free one (tests). */
    PORT: port(8081),
    /**
     * Origins whose pages may call the browser routes (the Web Push key and registration)
     * from another origin (CORS); unset or `*`: any. The gateway reads the same variable.
     */
    ALLOWED_ORIGINS: csv.optional(),
    /** Bearer keys backends authenticate with; required, each at least 16 characters. */
    API_KEYS: apiKeys,
    /** Largest request body, bytes (docs/publish-api.md#limits: 1 MiB). Reading stops as soon as it is passed. */
    MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
    /** Largest `data` of one message, bytes of its JSON text (docs/publish-api.md#limits: 64 KiB by default). */
    MAX_DATA_BYTES: int(1, MAX_DATA_BYTES_CEILING).default(64 * 1024),
    /** Most messages in one `/v1/publish/batch` (docs/publish-api.md#limits: 1000). */
    MAX_BATCH: int(1, 10_000).default(1000),
    /** Most entries in `topics` or `users` of one message. */
    MAX_TARGETS: int(1, 10_000).default(1000),
    /**
     * Requests per second allowed per API key (token bucket); 0 turns the limit off.
     * Off by default: keys belong to trusted backends, and the bus is the real bottleneck.
     */
    RATE_LIMIT_RPS: int(0, 1_000_000).default(0),
    /** Bucket size: requests a key may send at once after being idle; unset = one second's worth. */
    RATE_LIMIT_BURST: int(1, 10_000_000).optional(),
    /**
     * Bus publishes in flight per request. Publishes are issued in request order (so
     * seqs follow batch order within a channel) but pipelined up to this many, so that a
     * 1000-message batch costs a few round trips, not a thousand.
     */
    PUBLISH_CONCURRENCY: int(1, 10_000).default(256),
    /** On SIGTERM, how long in-flight requests may finish before the process exits, ms. */
    SHUTDOWN_TIMEOUT_MS: int(0, 120_000).default(10_000),
  })
  .superRefine((c, ctx) => {
    if (c.MAX_DATA_BYTES >= c.MAX_BODY_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['MAX_DATA_BYTES'], message: 'must be smaller than MAX_BODY_BYTES' });
    }
    if (c.VAPID_PUBLIC_KEY !== undefined || c.VAPID_PRIVATE_KEY !== undefined || c.VAPID_SUBJECT !== undefined) {
      const problem = vapidProblem({ publicKey: c.VAPID_PUBLIC_KEY, privateKey: c.VAPID_PRIVATE_KEY, subject: c.VAPID_SUBJECT });
      if (problem) ctx.addIssue({ code: 'custom', path: ['VAPID_PUBLIC_KEY'], message: problem });
    }
  });

/** The validated, frozen configuration of the publish API. */
export type PublishApiConfig = Readonly<z.infer<typeof publishApiConfigSchema>>;
