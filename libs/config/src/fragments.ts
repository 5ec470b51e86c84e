/**
 * Schema fragments shared by several services, each key with its unit and default.
 * @module
 */
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list; blanks dropped. */
export const csv = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const port = (fallback: number) => int(0, 65535).default(fallback);

export const logConfig = z.object({
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const nodeConfig = z.object({
  /** Name of this node in logs, `welcome` and metrics; default: hostname-pid. */
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').optional(),
  HOST: z.string().default('0.0.0.0'),
});

export const natsConfig = z.object({
  /** Unset: the embedded in-process memory bus (one node only). */
  NATS_URL: z.string().optional(),
  /** JetStream stream that holds history. */
  NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('HERALD'),
  /** Stream replicas (3 on a 3-server cluster). */
  NATS_REPLICAS: int(1, 5).default(1),
  /** Bus request timeout, ms. */
  NATS_TIMEOUT_MS: int(100, 60_000).default(5000),
});

export const historyConfig = z.object({
  /** Messages kept per channel. */
  HISTORY_SIZE: int(1, 100_000).default(100),
  /** How long a message is kept, ms (default 1 h). */
  HISTORY_TTL_MS: int(1000).default(3_600_000),
  /** Window in which a publish `id` is deduplicated, ms (default 2 min). */
  DEDUPE_WINDOW_MS: int(1000, 86_400_000).default(120_000),
});

export const jwtConfig = z.object({
  /** HS256/384/512 secret (UTF-8 bytes). */
  JWT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /** PEM or JWK public key. */
  JWT_PUBLIC_KEY: z.string().optional(),
  JWKS_URL: z.url().optional(),
  /** Algorithm allow-list; default depends on the key source. */
  JWT_ALGORITHMS: csv.optional(),
  JWT_AUDIENCE: z.string().optional(),
  JWT_ISSUER: z.string().optional(),
  /** Accept tokens without `exp` (not recommended). */
  JWT_ALLOW_NO_EXP: booleanFlag.default(false),
  /** Clock tolerance for exp/nbf, seconds. */
  JWT_CLOCK_TOLERANCE_S: int(0, 300).default(5),
});

export { int };
