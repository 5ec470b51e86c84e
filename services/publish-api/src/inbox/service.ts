/**
 * The publish API's inbox and push-subscription stores: in the process on the memory bus
 * (`herald dev`, not durable), on JetStream with a connection of their own on NATS (opened
 * at first use, again after a failure), like the gateway's events.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsSecurity, type Bus } from '@herald/bus';
import { InboxError, MemoryInboxStore, NatsInboxStore, type InboxStore } from '@herald/inbox';
import { MemoryPushClaims, MemorySubscriptionStore, openKvPush, pushEnabled, type KvPush, type SubscriptionStore } from '@herald/push';
import type { Logger, Registry } from '@herald/telemetry';
import type { PublishApiConfig } from '../config.js';
import { memoryPushTimer, natsPushTimer, type InboxPushTimer, type PushTimerSettings } from './push-timer.js';

export interface InboxService {
  /** The inbox store; rejects with InboxError('unavailable') while NATS cannot be reached. */
  store(): Promise<InboxStore>;
  /** Where Web Push subscriptions are kept. */
  subscriptions(): Promise<SubscriptionStore>;
  close(): Promise<void>;
}

/** An inbox store given by the host (herald dev shares one with its gateway). */
export interface InboxServiceOptions {
  readonly config: PublishApiConfig;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly store?: InboxStore;
  readonly subscriptions?: SubscriptionStore;
  /** Where the push timer's metrics go. */
  readonly metrics?: Registry;
}

/** The push timer's settings, when Web Push is configured. */
function timerSettings(c: PublishApiConfig): PushTimerSettings | undefined {
  if (!pushEnabled(c)) return undefined;
  return {
    afterMs: c.PUSH_AFTER_MS, ttlSeconds: c.PUSH_TTL_S, ratePerMinute: c.PUSH_RATE_PER_MIN, timeoutMs: c.PUSH_TIMEOUT_MS, leaseMs: c.PUSH_LEASE_MS, ackWaitMs: c.PUSH_ACK_WAIT_MS,
    vapid: { publicKey: c.VAPID_PUBLIC_KEY, privateKey: c.VAPID_PRIVATE_KEY, subject: c.VAPID_SUBJECT },
  };
}

/** Every append of a memory store also starts its push timer. */
function withTimer(store: InboxStore, timer: InboxPushTimer, now: () => number = Date.now): InboxStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'append') {
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return async (user: string, input: Parameters<InboxStore['append']>[1]) => {
        const ts = now();
        const r = await target.append(user, input);
        if (!r.duplicate) timer.schedule({ user, seq: r.seq, id: r.id, ts, data: input.data });
        return r;
      };
    },
  });
}

export function createInboxService(o: InboxServiceOptions): InboxService {
  const c = o.config;
  if (o.bus.kind === 'memory' || o.store !== undefined) {
    const store = o.store ?? new MemoryInboxStore({ ttlMs: c.INBOX_TTL_MS, maxPerUser: c.INBOX_MAX, dedupeWindowMs: c.DEDUPE_WINDOW_MS });
    const subs = o.subscriptions ?? new MemorySubscriptionStore({ maxPerUser: c.PUSH_MAX_SUBSCRIPTIONS });
    const settings = timerSettings(c);
    const timer = settings && memoryPushTimer({
      store: () => Promise.resolve(store), parts: { subscriptions: subs, claims: new MemoryPushClaims() }, settings, logger: o.logger.child({ component: 'push-timer' }),
      ...(o.metrics ? { registry: o.metrics } : {}),
    });
    const served = timer ? withTimer(store, timer) : store;
    return {
      store: () => Promise.resolve(served),
      subscriptions: () => Promise.resolve(subs),
      close: async () => {
        await timer?.close();
        // A store given by the host is the host's to close.
        if (o.store === undefined) await store.close();
      },
    };
  }
  let nc: Promise<NatsConnection> | undefined;
  let store: Promise<InboxStore> | undefined;
  let kvPush: Promise<KvPush> | undefined;
  let timer: InboxPushTimer | undefined;
  let closed = false;
  const connection = (): Promise<NatsConnection> => {
    nc ??= openConnection(c).catch((err: unknown) => {
      nc = undefined;
      throw new InboxError('unavailable', 'NATS unreachable', { cause: err });
    });
    return nc;
  };
  const prefix = c.NATS_PREFIX === undefined ? {} : { prefix: c.NATS_PREFIX };
  const push = (): Promise<KvPush> => {
    kvPush ??= connection()
      .then((conn) => openKvPush({ nc: conn, replicas: c.NATS_REPLICAS, maxPerUser: c.PUSH_MAX_SUBSCRIPTIONS, timeoutMs: c.NATS_TIMEOUT_MS, ...prefix }))
      .catch((err: unknown) => {
        kvPush = undefined;
        throw err instanceof InboxError ? err : new InboxError('unavailable', 'push subscription store not available', { cause: err });
      });
    return kvPush;
  };
  const service: InboxService = {
    store: () => {
      store ??= connection()
        .then((conn) => NatsInboxStore.open({
          nc: conn, replicas: c.NATS_REPLICAS, ttlMs: c.INBOX_TTL_MS, maxPerUser: c.INBOX_MAX, dedupeWindowMs: c.DEDUPE_WINDOW_MS, timeoutMs: c.NATS_TIMEOUT_MS, ...prefix,
        }))
        .catch((err: unknown) => {
          store = undefined;
          o.logger.warn({ err }, 'inbox store not available');
          throw err instanceof InboxError ? err : new InboxError('unavailable', 'inbox store not available', { cause: err });
        });
      return store;
    },
    subscriptions: async () => (await push()).store,
    close: async () => {
      closed = true;
      await timer?.close();
      const conn = nc;
      nc = undefined;
      store = undefined;
      kvPush = undefined;
      if (conn) await (await conn.catch(() => undefined))?.close();
    },
  };
  const settings = timerSettings(c);
  if (settings) void startNatsTimer(settings);
  return service;

  /** Opens the inbox store and the push buckets (retrying while NATS is away), then starts the durable timer. */
  async function startNatsTimer(s: PushTimerSettings): Promise<void> {
    const logger = o.logger.child({ component: 'push-timer' });
    for (let attempt = 0; !closed; attempt++) {
      try {
        const inbox = await service.store();
        const kv = await push();
        const conn = await connection();
        if (closed || !(inbox instanceof NatsInboxStore)) return;
        const t = natsPushTimer({
          nc: conn, names: inbox.names, store: service.store, settings: s, logger, timeoutMs: c.NATS_TIMEOUT_MS,
          parts: { subscriptions: kv.store, claims: kv.claims, ...(s.ratePerMinute > 0 ? { rateLimiter: kv.rateLimiter(s.ratePerMinute) } : {}) },
          ...(o.metrics ? { registry: o.metrics } : {}),
        });
        timer = t;
        await t.started;
        logger.info({ after_ms: s.afterMs }, 'push timer consuming');
        return;
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'push timer not started yet, retrying');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5))).unref());
      }
    }
  }
}

function openConnection(c: PublishApiConfig): Promise<NatsConnection> {
  const servers = (c.NATS_URL ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const security = natsSecurity({
    tlsCaFile: c.NATS_TLS_CA_FILE, tlsCertFile: c.NATS_TLS_CERT_FILE, tlsKeyFile: c.NATS_TLS_KEY_FILE,
    credsFile: c.NATS_CREDS_FILE, nkeySeedFile: c.NATS_NKEY_SEED_FILE,
  });
  return connect({
    servers, name: 'publish-api-inbox', timeout: c.NATS_TIMEOUT_MS,
    reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, pingInterval: 5000, maxPingOut: 3,
    ...(security.tls === undefined ? {} : { tls: security.tls }),
    ...(security.authenticator === undefined ? {} : { authenticator: security.authenticator }),
  });
}
