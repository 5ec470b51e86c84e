/**
 * The Web Push fallback of the inbox (docs/push.md#the-fallback-timer): an inbox message still
 * undelivered HERALD_PUSH_AFTER_MS after it was stored gets one push to each of the user's
 * subscriptions. On NATS a durable consumer on the inbox stream shared by every publish API
 * replica (JetStreamPushTimer, @herald/push); in memory mode a timer per message (not durable).
 */
import { hostname } from 'node:os';
import { decodeToken, encodeToken } from '@herald/bus';
import { HDR_MSG_ID, HDR_TS, type InboxMessage, type InboxNames, type InboxStore } from '@herald/inbox';
import {
  JetStreamPushTimer, kvOnlineProbe, MAX_PAYLOAD_BYTES, MemoryPushTimer, PushDispatcher, PushRateLimiter, PushSender,
  type PushClaims, type PushMessage, type PushTimerHooks, type RateLimit, type SubscriptionStore, type TimerDelivery,
} from '@herald/push';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger, Registry } from '@herald/telemetry';

/** What the timer knows of an inbox message. */
export interface DueInboxMessage {
  readonly id: string;
  readonly user: string;
  readonly seq: number;
  readonly ts: number;
  readonly data: string;
}

export interface PushTimerSettings {
  readonly afterMs: number;
  readonly ttlSeconds: number;
  readonly ratePerMinute: number;
  readonly timeoutMs: number;
  readonly leaseMs: number;
  readonly ackWaitMs: number;
  readonly vapid: { readonly publicKey: string; readonly privateKey: string; readonly subject: string };
}

/**
 * The push payload the service worker gets: `{"type":"inbox","user","id","seq","data"}`, `data`
 * left out when the whole would exceed the 3,993 bytes a push can carry (the page then reads the
 * message from the inbox).
 */
export function pushPayload(m: DueInboxMessage): string {
  let data: unknown;
  try {
    data = JSON.parse(m.data) as unknown;
  } catch {
    data = m.data;
  }
  const full = JSON.stringify({ type: 'inbox', user: m.user, id: m.id, seq: m.seq, data });
  if (Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
  return JSON.stringify({ type: 'inbox', user: m.user, id: m.id, seq: m.seq });
}

function hooksOf(store: () => Promise<InboxStore>, ttlSeconds: number, online?: (user: string) => Promise<boolean>): PushTimerHooks<DueInboxMessage> {
  return {
    // The message's own state: held (not retracted or expired) and still pending.
    needsPush: async (m) => {
      const page = await (await store()).list(m.user, { after: m.seq - 1, limit: 1 });
      const entry = page.messages[0];
      return entry !== undefined && entry.seq === m.seq && entry.state === 'pending';
    },
    // The claim key (and Topic source): a backend id can repeat across users, so the user is part of it.
    message: (m): PushMessage => ({ id: `${m.user}\u0000${m.id}`, user: m.user, payload: pushPayload(m), ttlSeconds, urgency: 'normal' }),
    ...(online ? { online } : {}),
  };
}

export interface PushParts {
  readonly subscriptions: SubscriptionStore;
  readonly claims: PushClaims;
  readonly rateLimiter?: RateLimit;
}

function dispatcherOf(parts: PushParts, s: PushTimerSettings, logger: Logger): PushDispatcher {
  return new PushDispatcher({
    sender: new PushSender({ vapid: s.vapid, timeoutMs: s.timeoutMs, logger }),
    store: parts.subscriptions,
    claims: parts.claims,
    ...(parts.rateLimiter ? { rateLimiter: parts.rateLimiter } : {}),
    node: `${hostname()}:${process.pid}`,
    leaseMs: s.leaseMs,
    logger,
  });
}

/** The inbox message of a delivery from the inbox stream (subject `<p>.inbox.<base64url(user)>`). */
export function decodeInboxDelivery(names: InboxNames, m: TimerDelivery): DueInboxMessage | undefined {
  const head = `${names.prefix}.inbox.`;
  if (!m.subject.startsWith(head)) return undefined;
  const user = decodeToken(m.subject.slice(head.length));
  if (user === undefined) return undefined;
  const msgId = m.headers?.get(HDR_MSG_ID) ?? '';
  const dot = msgId.indexOf('.');
  const ts = Number(m.headers?.get(HDR_TS));
  if (dot < 0 || !Number.isFinite(ts) || user.length === 0) return undefined;
  return { user, id: msgId.slice(dot + 1), seq: m.seq, ts, data: new TextDecoder().decode(m.data) };
}

export interface InboxPushTimer {
  /** Memory mode: watch a message just stored (no-op on NATS: the consumer sees the stream). */
  schedule(m: InboxMessage): void;
  close(): Promise<void>;
}

/** Memory mode: a timer per appended message in this process. */
export function memoryPushTimer(o: { store: () => Promise<InboxStore>; parts: PushParts; settings: PushTimerSettings; logger: Logger; registry?: Registry }): InboxPushTimer {
  const s = o.settings;
  const parts = { ...o.parts, rateLimiter: o.parts.rateLimiter ?? new PushRateLimiter({ perMinute: s.ratePerMinute }) };
  const timer = new MemoryPushTimer<DueInboxMessage>({
    dispatcher: dispatcherOf(parts, s, o.logger), hooks: hooksOf(o.store, s.ttlSeconds), afterMs: s.afterMs, logger: o.logger,
    ...(o.registry ? { registry: o.registry } : {}),
  });
  return {
    schedule: (m) => timer.schedule({ id: m.id, user: m.user, seq: m.seq, ts: m.ts, data: m.data }),
    close: () => {
      timer.stop();
      return Promise.resolve();
    },
  };
}

/** NATS: the durable consumer `<t>_inbox_push` on the inbox stream, shared by every replica. */
export function natsPushTimer(o: {
  nc: NatsConnection; names: InboxNames; store: () => Promise<InboxStore>; parts: PushParts; settings: PushTimerSettings; logger: Logger; registry?: Registry; timeoutMs: number;
}): InboxPushTimer & { timer: JetStreamPushTimer<DueInboxMessage>; started: Promise<void> } {
  const s = o.settings;
  const token = o.names.stream.slice(0, -'_inbox'.length);
  // HERALD_PUSH_AFTER_MS=0: "no live connection" is read from the gateways' presence bucket (docs/push.md).
  const online = s.afterMs === 0 ? kvOnlineProbe({ nc: o.nc, bucket: `${token}_presence`, key: (u) => `u.${encodeToken(u)}`, timeoutMs: o.timeoutMs }) : undefined;
  const timer = new JetStreamPushTimer<DueInboxMessage>({
    nc: o.nc, stream: o.names.stream, filterSubject: o.names.storedWildcard, durable: `${token}_inbox_push`,
    decode: (m) => decodeInboxDelivery(o.names, m),
    dispatcher: dispatcherOf(o.parts, s, o.logger), hooks: hooksOf(o.store, s.ttlSeconds, online), afterMs: s.afterMs, logger: o.logger,
    timeoutMs: o.timeoutMs, ackWaitMs: s.ackWaitMs, ...(o.registry ? { registry: o.registry } : {}),
  });
  const started = timer.start();
  return { timer, started, schedule: () => undefined, close: () => timer.stop() };
}
