// Shared parts of the Herald k6 scenarios: settings from the environment, HS256 tokens
// minted in the script, publishing that counts the deliveries it expects, and subscriber
// sessions that reconnect (with backoff and recovery) and check what they receive.
//
// Environment (k6 -e NAME=value, or exported variables): see loadtest/k6/README.md.
//   HERALD_WS_URL      gateway WebSocket URL          default ws://127.0.0.1:8080/v1/ws
//   HERALD_API_URL     publish API base URL           default http://127.0.0.1:8081
//   HERALD_API_KEY     one of HERALD_API_KEYS         required by scenarios that publish
//   HERALD_JWT_SECRET  the gateways' HERALD_JWT_SECRET: tokens are minted per virtual user
//   HERALD_TOKEN       a ready token instead (one user for every VU: mind
//                      HERALD_MAX_CONNECTIONS_PER_USER, 10 by default)
import { check } from 'k6';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';

export const WS_URL = __ENV['HERALD_WS_URL'] || 'ws://127.0.0.1:8080/v1/ws';
export const API_URL = (__ENV['HERALD_API_URL'] || 'http://127.0.0.1:8081').replace(/\/+$/, '');
const API_KEY = __ENV['HERALD_API_KEY'] || '';
const JWT_SECRET = __ENV['HERALD_JWT_SECRET'] || '';
const FIXED_TOKEN = __ENV['HERALD_TOKEN'] || '';

// ---- settings -------------------------------------------------------------------------------
/** A number from the environment (at least `min`), or the default. */
export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${raw}: expected a number of at least ${min}`);
  return n;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

/** Milliseconds of a k6 duration string (`90s`, `1h30m`, `500ms`); throws on anything else, a bare number included. */
export function parseDuration(name: string, text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`${name}=${text}: expected a k6 duration such as 90s, 2m or 1h30m`);
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] ?? ''] ?? 0), 0);
}

/** A k6 duration from the environment, in ms, or the default (itself a duration string). */
export function envDuration(name: string, fallback: string): number {
  const raw = __ENV[name];
  return parseDuration(name, raw === undefined || raw === '' ? fallback : raw);
}

/** A k6 duration string for `ms`, for scenario options. */
export function k6Duration(ms: number): string {
  return `${Math.max(0, Math.round(ms))}ms`;
}

// ---- metrics shared by every scenario --------------------------------------------------------
/** Upgrade start → `welcome` frame, ms. */
export const welcomeTime = new Trend('herald_welcome_ms', true);
/** Connection attempts that reached `welcome` (true) or not (false: refused, failed, timed out). */
export const connectOk = new Rate('herald_connect_ok');
/** `welcome` frames received. */
export const welcomes = new Counter('herald_welcomes');
/** Publisher's send timestamp (data.sentAt) → live frame received by a subscriber, ms. */
export const e2eLatency = new Trend('herald_e2e_ms', true);
/** The same for messages replayed after a reconnect: includes the time the client was away. */
export const recoveryLatency = new Trend('herald_recovered_e2e_ms', true);
/** Herald's store time (msg.ts) → frame received, ms (includes clock skew between hosts). */
export const storeToClient = new Trend('herald_store_to_client_ms', true);
/** `msg` frames received (each once: repeats and older frames are not counted). */
export const messagesReceived = new Counter('herald_messages_received');
/** Deliveries expected: every publish answered 200, times its recipients. */
export const deliveriesExpected = new Counter('herald_deliveries_expected');
/**
 * One `false` per expected delivery, one `true` per message received: its rate is
 * received / (received + expected), 50 % when every expected delivery arrived.
 */
export const deliveryBalance = new Rate('herald_delivery_balance');
/** Publishes answered 200. */
export const publishesOk = new Counter('herald_publishes_ok');
/** A `msg` whose `prev` is newer than the last seq known on its channel (from `welcome`/`ack` or a `msg`). */
export const gaps = new Counter('herald_gaps');
/** A `msg` at or below the last seq known on its channel: a repeat or out of order. */
export const outOfOrder = new Counter('herald_out_of_order');
/** Connections that ended before the script closed them. */
export const unexpectedCloses = new Counter('herald_unexpected_closes');
/** `sub` results that were not ok. */
export const subRejected = new Counter('herald_sub_rejected');
/** Reconnects that recovered what they missed (`recovered: false` counts a gap instead). */
export const recoveries = new Counter('herald_recoveries');

/** The delivery-balance threshold for a share `minDelivered` of the expected deliveries. */
export function balanceThreshold(minDelivered: number): string {
  return `rate>=${(minDelivered / (1 + minDelivered)).toFixed(6)}`;
}

// ---- tokens -------------------------------------------------------------------------------
function b64url(text: string): string {
  return encoding.b64encode(text, 'rawurl');
}

/**
 * An HS256 token for `sub` that may subscribe to `topics` (patterns as in PROTOCOL:
 * `news`, `orders.*`, `orders.>`, `>`), valid for `ttlSec`.
 */
export function token(sub: string, topics: readonly string[], ttlSec = 3600): string {
  if (FIXED_TOKEN) return FIXED_TOKEN;
  if (!JWT_SECRET) throw new Error('set HERALD_JWT_SECRET (to mint tokens) or HERALD_TOKEN');
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, topics, iat: now, exp: now + ttlSec }));
  const signature = crypto.hmac('sha256', JWT_SECRET, `${head}.${body}`, 'base64rawurl');
  return `${head}.${body}.${signature}`;
}

// ---- publishing ---------------------------------------------------------------------------
/** Target of one publish: a topic or a user. */
export type Target = { readonly topic: string } | { readonly user: string };

/**
 * POST /v1/publish with `data.sentAt` = now, so that subscribers can measure end-to-end
 * latency. A 200 adds `recipients` expected deliveries. Returns true on 200.
 */
export function publish(target: Target, recipients: number, payload: Record<string, unknown> = {}): boolean {
  if (!API_KEY) throw new Error('set HERALD_API_KEY (one of the publish API keys)');
  const body = JSON.stringify({ ...target, data: { ...payload, sentAt: Date.now() } });
  const res = http.post(`${API_URL}/v1/publish`, body, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    tags: { name: 'publish' },
  });
  const ok = check(res, { 'publish answered 200': (r) => r.status === 200 });
  if (ok) {
    publishesOk.add(1);
    deliveriesExpected.add(recipients);
    for (let i = 0; i < recipients; i++) deliveryBalance.add(false);
  }
  return ok;
}

// ---- the shape of a run ------------------------------------------------------------------------
/** When things happen in a run of DURATION: connections open, publishing, connections close. */
export interface RunPlan {
  readonly durationMs: number;
  /** Connections open before publishing starts. */
  readonly warmupMs: number;
  /** Publishing stops this long before the end, so that the last messages arrive. */
  readonly cooldownMs: number;
  /** How long publishers publish. */
  readonly publishMs: number;
}

/** DURATION (default `fallback`), WARMUP (default: 15 s, at most a quarter), COOLDOWN (default: 3 s, at most a tenth). */
export function runPlan(fallback: string): RunPlan {
  const durationMs = envDuration('DURATION', fallback);
  const warmupMs = envDuration('WARMUP', k6Duration(Math.min(15_000, durationMs / 4)));
  const cooldownMs = envDuration('COOLDOWN', k6Duration(Math.min(3000, durationMs / 10)));
  const publishMs = durationMs - warmupMs - cooldownMs;
  if (publishMs <= 0) throw new Error(`DURATION (${durationMs} ms) must exceed WARMUP + COOLDOWN (${warmupMs + cooldownMs} ms)`);
  return { durationMs, warmupMs, cooldownMs, publishMs };
}

/** How many of `subscribers` connections (connection i on topic i % topics) listen on topic `t`. */
export function listenersOf(t: number, subscribers: number, topics: number): number {
  return t >= subscribers ? 0 : Math.floor((subscribers - 1 - t) / topics) + 1;
}
