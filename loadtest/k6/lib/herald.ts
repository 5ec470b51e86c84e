// Shared parts of the Herald k6 scenarios: targets from the environment, HS256 tokens
// minted in the script, publishing, and a subscriber connection that measures latency.
//
// Environment (k6 -e NAME=value, or exported variables):
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
import { clearTimeout, setTimeout, type TimeoutID } from 'k6/timers';
import { WebSocket, type MessageEvent } from 'k6/websockets';

export const WS_URL = __ENV['HERALD_WS_URL'] || 'ws://127.0.0.1:8080/v1/ws';
export const API_URL = (__ENV['HERALD_API_URL'] || 'http://127.0.0.1:8081').replace(/\/+$/, '');
const API_KEY = __ENV['HERALD_API_KEY'] || '';
const JWT_SECRET = __ENV['HERALD_JWT_SECRET'] || '';
const FIXED_TOKEN = __ENV['HERALD_TOKEN'] || '';

/** A number from the environment, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name}=${raw} is not a number`);
  return n;
}

// ---- metrics shared by every scenario --------------------------------------------------
/** Upgrade start → `welcome` frame, ms. */
export const welcomeTime = new Trend('herald_welcome_ms', true);
/** Connections that reached `welcome`. */
export const connectOk = new Rate('herald_connect_ok');
/** Publisher's send timestamp (data.sentAt) → frame received by a subscriber, ms. */
export const e2eLatency = new Trend('herald_e2e_ms', true);
/** Herald's store time (msg.ts) → frame received, ms (includes clock skew between hosts). */
export const storeToClient = new Trend('herald_store_to_client_ms', true);
/** `msg` frames received. */
export const messagesReceived = new Counter('herald_messages_received');
/** A `prev` that did not match the last seq seen on that channel: a message was missed. */
export const gaps = new Counter('herald_gaps');
/** Connections that ended before the script closed them. */
export const unexpectedCloses = new Counter('herald_unexpected_closes');
/** `sub` results that were not ok. */
export const subRejected = new Counter('herald_sub_rejected');

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
 * latency. Returns true on 200.
 */
export function publish(target: Target, payload: Record<string, unknown> = {}): boolean {
  if (!API_KEY) throw new Error('set HERALD_API_KEY (one of the publish API keys)');
  const body = JSON.stringify({ ...target, data: { ...payload, sentAt: Date.now() } });
  const res = http.post(`${API_URL}/v1/publish`, body, {
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    tags: { name: 'publish' },
  });
  return check(res, { 'publish answered 200': (r) => r.status === 200 });
}

// ---- subscribers --------------------------------------------------------------------------
interface ServerFrame {
  readonly op: string;
  readonly ch?: string;
  readonly seq?: number;
  readonly prev?: number;
  readonly ts?: number;
  readonly data?: { readonly sentAt?: number } | null;
  readonly results?: Record<string, { readonly ok: boolean }>;
  readonly after?: number;
}

export interface SubscriberOptions {
  /** User id (`sub` claim). */
  readonly user: string;
  /** Topics to subscribe to once welcomed (the personal channel needs none). */
  readonly topics: readonly string[];
  /** How long to hold the connection, ms; the script then closes it. */
  readonly holdMs: number;
  /** Metric tags, e.g. { scenario_role: 'subscriber' }. */
  readonly tags?: Record<string, string>;
}

/**
 * Opens one connection, subscribes, records latency and gaps for every `msg`, and closes
 * after `holdMs`. The VU's iteration lasts as long as the connection. A `reconnect` frame
 * (the node drains) ends the connection early; the next iteration connects again.
 */
export function subscribe(opts: SubscriberOptions): void {
  const started = Date.now();
  const lastSeq: Record<string, number> = {};
  let welcomed = false;
  let closing = false;
  let counted = false;
  let holdTimer: TimeoutID | undefined;
  /** Records the connection attempt's outcome once. */
  const settle = (ok: boolean): void => {
    if (counted) return;
    counted = true;
    connectOk.add(ok);
  };
  const ws = new WebSocket(WS_URL, null, {
    headers: { authorization: `Bearer ${token(opts.user, opts.topics)}` },
    tags: opts.tags ?? {},
  });
  const close = (): void => {
    if (closing) return;
    closing = true;
    ws.close(1000);
  };
  ws.onmessage = (event?: MessageEvent) => {
    if (event === undefined || typeof event.data !== 'string') return;
    const frame = JSON.parse(event.data) as ServerFrame;
    const now = Date.now();
    switch (frame.op) {
      case 'welcome':
        welcomed = true;
        welcomeTime.add(now - started);
        settle(true);
        if (opts.topics.length > 0) ws.send(JSON.stringify({ op: 'sub', id: 1, topics: opts.topics }));
        holdTimer = setTimeout(close, opts.holdMs);
        break;
      case 'ack':
        for (const r of Object.values(frame.results ?? {})) if (!r.ok) subRejected.add(1);
        break;
      case 'msg': {
        messagesReceived.add(1);
        const sentAt = frame.data?.sentAt;
        if (typeof sentAt === 'number') e2eLatency.add(now - sentAt);
        if (typeof frame.ts === 'number') storeToClient.add(Math.max(0, now - frame.ts));
        const ch = frame.ch ?? '';
        const last = lastSeq[ch];
        if (last !== undefined && frame.prev !== undefined && frame.prev > last) gaps.add(1);
        if (frame.seq !== undefined) lastSeq[ch] = frame.seq;
        break;
      }
      case 'reconnect':
        // The node is draining: leave now; the next iteration reconnects (to another node).
        close();
        break;
      default:
        break;
    }
  };
  ws.onerror = () => {
    if (!welcomed) settle(false);
  };
  ws.onclose = () => {
    // Ends the iteration now, not when the hold timer would have fired.
    if (holdTimer !== undefined) clearTimeout(holdTimer);
    if (!welcomed) settle(false);
    else if (!closing) unexpectedCloses.add(1);
  };
}
