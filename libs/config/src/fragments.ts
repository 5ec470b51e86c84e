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
  /**
   * The bus, said explicitly: `nats` (needs NATS_URL) or `memory` (the in-process bus; no
   * other process reaches it). Unset: `nats` when NATS_URL is set, else `memory`, which
   * `herald gateway` refuses (a lone gateway nobody can publish to) unless set explicitly.
   */
  BUS: z.enum(['nats', 'memory']).optional(),
  /** JetStream stream that holds history. */
  NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default('HERALD'),
  /**
   * Streams the channels are spread over (partition k ≥ 1 is `<NATS_STREAM>_P<k>`), so that
   * several NATS servers lead history streams. The same on every process of an install: a
   * process refuses to start when the streams record another count.
   */
  NATS_PARTITIONS: int(1, 64).default(1),
  /** Stream replicas (3 on a 3-server cluster). */
  NATS_REPLICAS: int(1, 5).default(1),
  /** Bus request timeout, ms. */
  NATS_TIMEOUT_MS: int(100, 60_000).default(5000),
  /**
   * While publishes keep coming (one went out less than this many ms ago), the next ones wait
   * until this long after it and leave together: one socket write, one server read and fewer
   * acknowledgement writes for several. An idle publisher sends at once. 0: never wait.
   * Measured: docs/operations.md, "Publish linger".
   */
  NATS_PUBLISH_LINGER_MS: int(0, 50).default(1),
  /**
   * Prefix of every NATS subject (history, live copies, canaries, control requests). Installs
   * sharing one NATS cluster need distinct prefixes (and distinct NATS_STREAM names). Unset: `herald`.
   */
  NATS_PREFIX: z.string().regex(/^(?=.{1,64}$)[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,3}$/, '1-4 dot-separated tokens of [A-Za-z0-9_-], at most 64 characters').optional(),
  /** PEM CA bundle that signs the NATS servers' certificates; set: TLS is required. */
  NATS_TLS_CA_FILE: z.string().optional(),
  /** PEM client certificate for NATS (with NATS_TLS_KEY_FILE). */
  NATS_TLS_CERT_FILE: z.string().optional(),
  /** PEM private key of NATS_TLS_CERT_FILE. */
  NATS_TLS_KEY_FILE: z.string().optional(),
  /** NATS `.creds` file (user JWT + NKey seed). */
  NATS_CREDS_FILE: z.string().optional(),
  /** File holding a NATS NKey user seed (`SU…`); not with NATS_CREDS_FILE. */
  NATS_NKEY_SEED_FILE: z.string().optional(),
});

/** Tracing (docs/operations.md#request-ids-and-trace-context); both roles read it. */
export const tracingConfig = z.object({
  /**
   * `otel`: spans (publish, bus publish, fan-out) through @opentelemetry/api, recorded by the
   * OpenTelemetry SDK the operator registers (`node --import`); with none registered they cost
   * little and record nothing. `off` (default): no spans. Request ids and an incoming
   * `traceparent` are carried to the gateways and logged either way.
   */
  TRACING: z.enum(['off', 'otel']).default('off'),
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
