/**
 * The publish API's inbox and push-subscription stores: in the process on the memory bus
 * (`herald dev`, not durable), on JetStream with a connection of their own on NATS (opened
 * at first use, again after a failure), like the gateway's events.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsSecurity, type Bus } from '@herald/bus';
import { InboxError, MemoryInboxStore, NatsInboxStore, type InboxStore } from '@herald/inbox';
import { MemorySubscriptionStore, openKvPush, type SubscriptionStore } from '@herald/push';
import type { Logger } from '@herald/telemetry';
import type { PublishApiConfig } from '../config.js';

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
}

export function createInboxService(o: InboxServiceOptions): InboxService {
  const c = o.config;
  if (o.bus.kind === 'memory' || o.store !== undefined) {
    const store = o.store ?? new MemoryInboxStore({ ttlMs: c.INBOX_TTL_MS, maxPerUser: c.INBOX_MAX, dedupeWindowMs: c.DEDUPE_WINDOW_MS });
    const subs = o.subscriptions ?? new MemorySubscriptionStore({ maxPerUser: c.PUSH_MAX_SUBSCRIPTIONS });
    // A store given by the host is the host's to close.
    return { store: () => Promise.resolve(store), subscriptions: () => Promise.resolve(subs), close: () => (o.store === undefined ? store.close() : Promise.resolve()) };
  }
  let nc: Promise<NatsConnection> | undefined;
  let store: Promise<InboxStore> | undefined;
  let subs: Promise<SubscriptionStore> | undefined;
  const connection = (): Promise<NatsConnection> => {
    nc ??= openConnection(c).catch((err: unknown) => {
      nc = undefined;
      throw new InboxError('unavailable', 'NATS unreachable', { cause: err });
    });
    return nc;
  };
  const prefix = c.NATS_PREFIX === undefined ? {} : { prefix: c.NATS_PREFIX };
  return {
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
    subscriptions: () => {
      subs ??= connection()
        .then(async (conn) => (await openKvPush({ nc: conn, replicas: c.NATS_REPLICAS, maxPerUser: c.PUSH_MAX_SUBSCRIPTIONS, timeoutMs: c.NATS_TIMEOUT_MS, ...prefix })).store)
        .catch((err: unknown) => {
          subs = undefined;
          throw err instanceof InboxError ? err : new InboxError('unavailable', 'push subscription store not available', { cause: err });
        });
      return subs;
    },
    close: async () => {
      const conn = nc;
      nc = undefined;
      store = undefined;
      subs = undefined;
      if (conn) await (await conn.catch(() => undefined))?.close();
    },
  };
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
