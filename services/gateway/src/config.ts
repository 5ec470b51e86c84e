/** The gateway's configuration schema (`HERALD_*` variables, prefix stripped by loadConfig), with units and defaults. */
import { booleanFlag, csv, historyConfig, int, jwtConfig, logConfig, natsConfig, nodeConfig, port, tracingConfig } from '@herald/config';
import { isValidTopicPattern, type VerifierConfig } from '@herald/auth';
import { eventsConfig, eventsConfigIssues } from '@herald/events';
import { inboxConfig } from '@herald/inbox';
import { z } from 'zod';

/** isValidTopicPattern without its type guard (a string that fails it is still a string). */
const isTopicPattern: (p: string) => boolean = isValidTopicPattern;

/** The three JWT key sources; the gateway needs exactly one of them. */
const KEY_SOURCES = ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWKS_URL'] as const;

/**
 * Schema of the gateway role. Every key carries its unit and default; see docs/protocol.md
 * for the behaviour each limit shapes.
 */
export const gatewayConfigSchema = z
  .object({
    ...logConfig.shape,
    ...nodeConfig.shape,
    ...jwtConfig.shape,
    ...natsConfig.shape,
    ...historyConfig.shape,
    ...tracingConfig.shape,
    /** Lifecycle events and webhooks (HERALD_EVENTS, HERALD_OFFLINE_GRACE_MS, HERALD_WEBHOOK_*): docs/events.md#configuration. */
    ...eventsConfig.shape,
    /**
     * The inbox on this gateway (docs/inbox.md): unread inbox messages after `welcome`, `receipt`
     * frames, `read` sync, `POST /v1/inbox/receipts`. Off by default (a connect then costs a read
     * of the store); `herald dev` turns it on. HERALD_INBOX_TTL_MS and HERALD_INBOX_MAX must match the publish API's.
     */
    INBOX: booleanFlag.default(false),
    ...inboxConfig.shape,
    /** TCP port of the WebSocket and ops endpoints; 0 picks a free one. */
    PORT: port(8080),
    /** The URL clients use to reach this node, for logs only; unset: not logged. */
    PUBLIC_URL: z.url().optional(),
    /**
     * Browser origins allowed to open a WebSocket (comma-separated, exact match such as
     * `https://app.example.com`). Unset: any Origin is allowed. A request without an
     * Origin header (not a browser) always passes.
     */
    ALLOWED_ORIGINS: csv.optional(),
    /** Open (and upgrading) connections this node holds at most; beyond: 503. */
    MAX_CONNECTIONS: int(1).default(100_000),
    /** Connections one user (`sub`) may hold on this node; beyond: 429. */
    MAX_CONNECTIONS_PER_USER: int(1).default(10),
    /** WebSocket upgrades per second this node accepts (token bucket, burst = rate); beyond: 503. */
    UPGRADE_RATE: int(1).default(1000),
    /** Upgrades per second from one IP address (token bucket, burst = rate); unset: no per-IP limit. Beyond: 429. */
    MAX_UPGRADES_PER_IP_RATE: int(1).optional(),
    /** Largest inbound frame, bytes (docs/protocol.md#bad-input: larger closes with 1009). */
    WS_MAX_FRAME_BYTES: int(256, 16 * 1024 * 1024).default(16 * 1024),
    /** Send buffer a socket may hold, bytes, before it is closed with 4008 (slow consumer). */
    WS_MAX_BACKPRESSURE_BYTES: int(1024).default(1024 * 1024),
    /** uWS idle timeout, seconds: pings are sent automatically and a silent peer is closed. 0 disables; else 8..960 (a uWS rule). */
    WS_IDLE_TIMEOUT_S: int(0, 960)
      .refine((v) => v === 0 || v >= 8, 'must be 0 or between 8 and 960 (uWS rule)')
      .default(120),
    /**
     * permessage-deflate on `/v1/ws`, negotiated only with clients that offer it: `off`
     * (default, measured in loadtest/bench), `shared` (one compressor per thread, no context
     * takeover) or `dedicated` (a 4 KB-window compressor per socket: better ratio, more memory
     * per socket). Takes effect where the gateway passes it to createBehavior and publishes
     * with `compress` set.
     */
    WS_COMPRESSION: z.enum(['off', 'shared', 'dedicated']).default('off'),
    /**
     * Conflated topics: comma-separated topic patterns in the grammar of the token's `topics`
     * claim (`prices`, `prices.*`, `state.>`). A connection that falls behind on such a topic
     * gets its newest message (flagged `conflated`) instead of every one, and is not closed
     * with 4008 for that traffic (docs/operations.md, "Conflation"). Unset: none.
     */
    CONFLATE_TOPICS: csv
      .superRefine((patterns, ctx) => {
        for (const p of patterns) {
          if (isTopicPattern(p)) continue;
          ctx.addIssue({
            code: 'custom',
            message: `"${p.slice(0, 80)}" is not a topic pattern (segments of [A-Za-z0-9_-]{1,64} joined by ".", "*" for one segment, a final ">" for one or more)`,
          });
        }
      })
      .optional(),
    /** `hb` frame after this many ms without a direct send (docs/protocol.md#keepalive). */
    HEARTBEAT_MS: int(1000).default(25_000),
    /** Topic subscriptions one connection may hold (the personal channel is not counted). */
    MAX_SUBSCRIPTIONS_PER_CONN: int(1).default(200),
    /** Commands per second per connection (token bucket refill rate); beyond the burst: close 4029. */
    CMD_RATE: int(1).default(50),
    /** Command bucket size (burst) per connection. */
    CMD_BURST: int(1).default(100),
    /** Malformed but well-formed-JSON frames a connection may send before it is closed with 4029. */
    BAD_FRAME_LIMIT: int(1).default(10),
    /** Send `refresh` this many seconds before the token's `exp`. */
    REFRESH_BEFORE_S: int(0).default(60),
    /** Keep a bus subscription this many ms after its last local subscriber left (0: release at once). */
    UNSUBSCRIBE_LINGER_MS: int(0).default(1000),
    /** Drain: `reconnect` delays are spread uniformly over this many ms; leftovers are closed with 1012 at its end. */
    DRAIN_WINDOW_MS: int(0).default(20_000),
    /** Drain: hard bound on the whole drain, ms (must be at least DRAIN_WINDOW_MS). */
    DRAIN_TIMEOUT_MS: int(0).default(25_000),
    /** NATS mode: canary round trip every this many ms; /readyz fails after 3 intervals without success. */
    CANARY_INTERVAL_MS: int(100).default(5000),
  })
  // Runs even when other keys are invalid (`when`), so a missing key source is reported with them.
  .superRefine(
    (c, ctx) => {
      const set = KEY_SOURCES.filter((k) => c[k] !== undefined);
      if (set.length === 1) return;
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          set.length === 0
            ? 'the gateway verifies tokens: set exactly one of HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY, HERALD_JWKS_URL'
            : `set only one token key source (got ${set.map((k) => 'HERALD_' + k).join(', ')})`,
      });
    },
    { when: () => true },
  )
  .superRefine((c, ctx) => {
    if (c.DRAIN_TIMEOUT_MS < c.DRAIN_WINDOW_MS) {
      ctx.addIssue({ code: 'custom', path: ['DRAIN_TIMEOUT_MS'], message: 'must be at least HERALD_DRAIN_WINDOW_MS' });
    }
    // Each issue reads `HERALD_<KEY>: <problem>`: reported under its key like the others.
    for (const issue of eventsConfigIssues(c)) {
      const m = /^HERALD_([A-Z0-9_]+): (.*)$/s.exec(issue);
      ctx.addIssue({ code: 'custom', path: m?.[1] === undefined ? [] : [m[1]], message: m?.[2] ?? issue });
    }
  });

/** The validated, frozen configuration of a gateway node. */
export type GatewayConfig = Readonly<z.infer<typeof gatewayConfigSchema>>;

/** Maps the JWT_* keys onto @herald/auth's verifier options. */
export function verifierConfigOf(config: GatewayConfig): VerifierConfig {
  const v: VerifierConfig = {
    requireExp: !config.JWT_ALLOW_NO_EXP,
    clockToleranceSec: config.JWT_CLOCK_TOLERANCE_S,
  };
  if (config.JWT_SECRET !== undefined) v.hmacSecret = config.JWT_SECRET;
  if (config.JWT_PUBLIC_KEY !== undefined) v.publicKey = config.JWT_PUBLIC_KEY;
  if (config.JWKS_URL !== undefined) v.jwksUrl = config.JWKS_URL;
  if (config.JWT_ALGORITHMS !== undefined) v.algorithms = config.JWT_ALGORITHMS;
  if (config.JWT_AUDIENCE !== undefined) v.audience = config.JWT_AUDIENCE;
  if (config.JWT_ISSUER !== undefined) v.issuer = config.JWT_ISSUER;
  return v;
}
