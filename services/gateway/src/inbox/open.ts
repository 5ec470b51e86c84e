/**
 * The gateway's inbox store (docs/inbox.md): the same store the publish API opens, with the same
 * configuration keys (HERALD_INBOX_TTL_MS, HERALD_INBOX_MAX, HERALD_DEDUPE_WINDOW_MS): in the
 * process on the memory bus (or the one the host hands in: `herald dev` shares it with its
 * publish API), on JetStream over a NATS connection of its own otherwise, opened at start and
 * again after a failure. Receipt events go to the node's events publisher when HERALD_EVENTS is on.
 * @module
 */
import { natsSecurity, type BusConfigKeys } from '@herald/bus';
import type { AnyEvent, EventPublisher } from '@herald/events';
import { InboxError, MemoryInboxStore, NatsInboxStore, type InboxStore } from '@herald/inbox';
import type { Logger } from '@herald/telemetry';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface InboxStoreConfig extends BusConfigKeys {
  readonly INBOX_TTL_MS: number;
  readonly INBOX_MAX: number;
  readonly DEDUPE_WINDOW_MS: number;
  readonly NATS_REPLICAS: number;
  readonly NATS_TIMEOUT_MS: number;
}

/** How long `start` keeps trying to open the JetStream store (a fresh cluster elects leaders first), ms. */
const STARTUP_MS = 30_000;
const RETRY_MS = 500;

/** Forwards to the node's events publisher once it exists; nothing is published while events are off. */
export function forwardingPublisher(current: () => EventPublisher | undefined): EventPublisher {
  return { publish: (event: AnyEvent) => current()?.publish(event) ?? Promise.resolve() };
}

export class InboxStoreHandle {
  readonly #config: InboxStoreConfig;
  readonly #nodeId: string;
  readonly #log: Logger;
  readonly #events: EventPublisher;
  readonly #memory: InboxStore | undefined;
  readonly #owned: boolean;
  #nc: Promise<NatsConnection> | undefined;
  #store: Promise<InboxStore> | undefined;
  #closed = false;

  constructor(o: { config: InboxStoreConfig; nodeId: string; log: Logger; events: EventPublisher; memory: boolean; store?: InboxStore }) {
    this.#config = o.config;
    this.#nodeId = o.nodeId;
    this.#log = o.log;
    this.#events = o.events;
    this.#owned = o.store === undefined;
    const c = o.config;
    this.#memory = o.store ?? (o.memory ? new MemoryInboxStore({ ttlMs: c.INBOX_TTL_MS, maxPerUser: c.INBOX_MAX, dedupeWindowMs: c.DEDUPE_WINDOW_MS, events: o.events }) : undefined);
  }

  /** The in-process store (memory mode), for the host to share; undefined on NATS. */
  get memoryStore(): InboxStore | undefined {
    return this.#memory;
  }

  /** Opens the JetStream store, retrying while the cluster places it; a final failure is logged, later uses retry. */
  async start(): Promise<void> {
    if (this.#memory) return;
    const deadline = Date.now() + STARTUP_MS;
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        await this.store();
        return;
      } catch (err) {
        if (Date.now() + RETRY_MS >= deadline) {
          this.#log.warn({ err }, 'inbox store not available at start; retried at first use');
          return;
        }
        if (attempt === 1 || attempt % 10 === 0) this.#log.info({ attempt }, 'inbox store not ready yet; retrying');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** The store; rejects with InboxError('unavailable') while NATS cannot be reached. */
  store(): Promise<InboxStore> {
    if (this.#memory) return Promise.resolve(this.#memory);
    if (this.#closed) return Promise.reject(new InboxError('unavailable', 'gateway closing'));
    const c = this.#config;
    this.#store ??= this.#connection()
      .then((nc) => NatsInboxStore.open({
        nc, replicas: c.NATS_REPLICAS, ttlMs: c.INBOX_TTL_MS, maxPerUser: c.INBOX_MAX, dedupeWindowMs: c.DEDUPE_WINDOW_MS, timeoutMs: c.NATS_TIMEOUT_MS,
        events: this.#events, ...(c.NATS_PREFIX === undefined ? {} : { prefix: c.NATS_PREFIX }),
      }))
      .catch((err: unknown) => {
        this.#store = undefined;
        throw err instanceof InboxError ? err : new InboxError('unavailable', 'inbox store not available', { cause: err });
      });
    return this.#store;
  }

  #connection(): Promise<NatsConnection> {
    const c = this.#config;
    this.#nc ??= (async () => {
      const servers = (c.NATS_URL ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const security = natsSecurity({
        tlsCaFile: c.NATS_TLS_CA_FILE, tlsCertFile: c.NATS_TLS_CERT_FILE, tlsKeyFile: c.NATS_TLS_KEY_FILE,
        credsFile: c.NATS_CREDS_FILE, nkeySeedFile: c.NATS_NKEY_SEED_FILE,
      });
      return connect({
        servers, name: `${this.#nodeId}-inbox`, timeout: c.NATS_TIMEOUT_MS,
        reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, pingInterval: 5000, maxPingOut: 3,
        ...(security.tls === undefined ? {} : { tls: security.tls }),
        ...(security.authenticator === undefined ? {} : { authenticator: security.authenticator }),
      });
    })().catch((err: unknown) => {
      this.#nc = undefined;
      throw new InboxError('unavailable', 'NATS unreachable', { cause: err });
    });
    return this.#nc;
  }

  /** Closes the store and its connection (a store handed in by the host is the host's). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#memory) {
      if (this.#owned) await this.#memory.close();
      return;
    }
    const store = this.#store;
    const nc = this.#nc;
    this.#store = undefined;
    this.#nc = undefined;
    await (await store?.catch(() => undefined))?.close().catch(() => undefined);
    const conn = await nc?.catch(() => undefined);
    if (conn) await conn.drain().catch(() => conn.close());
  }
}
