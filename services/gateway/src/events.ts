/**
 * Lifecycle events of a gateway node (docs/events.md): its connections and topic subscriptions
 * reported to the cluster-wide presence tracker of @herald/events, and the webhook sender.
 * On NATS the tracker and the sender use a connection of their own (the Bus does not lend its
 * connection out); in memory mode both live in this process.
 * @module
 */
import { natsSecurity, type BusConfigKeys } from '@herald/bus';
import {
  openMemoryPresence, openNatsPresence, startMemoryWebhooks, startNatsWebhooks, webhookSettings,
  NatsEventPublisher, type EventPublisher, type EventsConfig, type MemoryEventHub, type Presence, type PresenceTracker, type WebhookRunner,
} from '@herald/events';
import { TOPIC_PREFIX } from '@herald/protocol';
import type { Logger, Registry } from '@herald/telemetry';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { ConnectionObserver } from './conn/registry.js';
import type { ConnState } from './conn/state.js';
import type { TopicObserver } from './hub/subscriptions.js';

/** How long a start waits for the presence bucket and the events streams, ms (a fresh cluster elects their leaders first). */
const STARTUP_MS = 30_000;
const START_RETRY_MS = 500;

export interface NodeEventsDeps {
  readonly config: EventsConfig & BusConfigKeys;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** Where the tracker and the sender run: `nats` with the bus's servers, or `memory` in this process. */
export type EventsMode = 'nats' | 'memory';

/**
 * The node's events. The observers forward to the tracker once `start` opened it and are
 * silent before (and when HERALD_EVENTS is off): the tracker's calls never throw and never
 * block a socket, they resolve once the cluster state holds the change.
 */
export class NodeEvents {
  readonly #deps: NodeEventsDeps;
  readonly #log: Logger;
  #tracker: PresenceTracker | undefined;
  #presence: Presence | undefined;
  #webhooks: WebhookRunner | undefined;
  #nc: NatsConnection | undefined;
  #publisher: EventPublisher | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: NodeEventsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'events' });
  }

  get enabled(): boolean {
    return this.#deps.config.EVENTS;
  }

  /** Where other parts of the node publish events (the inbox's receipts): undefined until started, and while HERALD_EVENTS is off. */
  get publisher(): EventPublisher | undefined {
    return this.#publisher;
  }

  /** Every connection counts for its user (online while the user has one anywhere), and may be its own event. */
  readonly connections: ConnectionObserver = {
    opened: (st: ConnState): void => {
      const t = this.#tracker;
      if (!t) return;
      void t.userConnected(st.sub);
      void t.connectionOpened(st.sub, st.connId);
    },
    closed: (st: ConnState, code: number): void => {
      const t = this.#tracker;
      if (!t) return;
      void t.userDisconnected(st.sub);
      void t.connectionClosed(st.sub, st.connId, code);
    },
  };

  /** Every (connection, topic) held counts for the topic (occupied while one is held anywhere). */
  readonly topics: TopicObserver = {
    joined: (channel: string): void => {
      if (this.#tracker && channel.startsWith(TOPIC_PREFIX)) void this.#tracker.topicSubscribed(channel.slice(TOPIC_PREFIX.length));
    },
    left: (channel: string): void => {
      if (this.#tracker && channel.startsWith(TOPIC_PREFIX)) void this.#tracker.topicUnsubscribed(channel.slice(TOPIC_PREFIX.length));
    },
  };

  /** Opens the tracker (and the webhook sender when URLs are set). Before the node takes connections. */
  async start(mode: EventsMode): Promise<void> {
    const c = this.#deps.config;
    if (!c.EVENTS || this.#presence) return;
    if (mode === 'memory') this.#startMemory();
    else await this.#startNats();
    this.#log.info({ mode, graceMs: c.OFFLINE_GRACE_MS, connectionEvents: c.EVENTS_CONNECTIONS, webhooks: this.#webhooks?.senders.length ?? 0 }, 'lifecycle events on');
  }

  #startMemory(): void {
    const c = this.#deps.config;
    const presence = openMemoryPresence({ node: this.#deps.nodeId, graceMs: c.OFFLINE_GRACE_MS, connectionEvents: c.EVENTS_CONNECTIONS, logger: this.#log, ...(c.NATS_PREFIX === undefined ? {} : { prefix: c.NATS_PREFIX }) });
    this.#presence = presence;
    this.#tracker = presence.tracker;
    this.#publisher = presence.hub;
    this.#webhooks = this.#memoryWebhooks(presence.hub);
  }

  #memoryWebhooks(hub: MemoryEventHub): WebhookRunner | undefined {
    const hooks = webhookSettings(this.#deps.config);
    return hooks && startMemoryWebhooks(hub, { ...hooks, ...this.#senderLimits() });
  }

  async #startNats(): Promise<void> {
    const c = this.#deps.config;
    const nc = await this.#connect();
    this.#nc = nc;
    try {
      const presence = await this.#openPresence(nc);
      this.#presence = presence;
      this.#tracker = presence.tracker;
      this.#publisher = new NatsEventPublisher(nc, presence.names, c.NATS_TIMEOUT_MS);
      // Every node runs the sender on the same durable consumer per URL: JetStream hands each
      // event to one of them, so several gateways do not each send every webhook.
      const hooks = webhookSettings(c);
      this.#webhooks = hooks && (await startNatsWebhooks(nc, presence.names, { ...hooks, ...this.#senderLimits() }));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * Opens the bucket, the streams and the heartbeat, again while the cluster is still placing
   * them: right after a replicated bucket is created its first write can find no leader yet
   * (JetStream answers "not enabled"). Gives up after STARTUP_MS.
   */
  async #openPresence(nc: NatsConnection): Promise<Presence> {
    const c = this.#deps.config;
    const deadline = Date.now() + STARTUP_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await openNatsPresence({
          nc, node: this.#deps.nodeId, graceMs: c.OFFLINE_GRACE_MS, connectionEvents: c.EVENTS_CONNECTIONS, replicas: c.NATS_REPLICAS,
          timeoutMs: c.NATS_TIMEOUT_MS, streams: { maxAgeMs: c.EVENTS_MAX_AGE_MS }, logger: this.#log, startupTimeoutMs: Math.max(1000, deadline - Date.now()),
          ...(c.NATS_PREFIX === undefined ? {} : { prefix: c.NATS_PREFIX }),
        });
      } catch (err) {
        if (Date.now() + START_RETRY_MS >= deadline) throw err;
        this.#log.warn({ err, attempt }, 'presence not ready yet; retrying');
        await new Promise((r) => setTimeout(r, START_RETRY_MS));
      }
    }
  }

  /** A connection of the events' own, to the bus's servers with the same TLS and credentials. */
  async #connect(): Promise<NatsConnection> {
    const c = this.#deps.config;
    const servers = (c.NATS_URL ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const security = natsSecurity({
      tlsCaFile: c.NATS_TLS_CA_FILE, tlsCertFile: c.NATS_TLS_CERT_FILE, tlsKeyFile: c.NATS_TLS_KEY_FILE,
      credsFile: c.NATS_CREDS_FILE, nkeySeedFile: c.NATS_NKEY_SEED_FILE,
    });
    return connect({
      servers, name: `${this.#deps.nodeId}-events`, timeout: c.NATS_TIMEOUT_MS,
      reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 250, reconnectJitter: 100, pingInterval: 5000, maxPingOut: 3,
      ...(security.tls === undefined ? {} : { tls: security.tls }),
      ...(security.authenticator === undefined ? {} : { authenticator: security.authenticator }),
    });
  }

  #senderLimits(): { retryMs: number; timeoutMs: number; concurrency: number; maxPending: number; registry: Registry; logger: Logger } {
    const c = this.#deps.config;
    return {
      retryMs: c.WEBHOOK_RETRY_MS, timeoutMs: c.WEBHOOK_TIMEOUT_MS, concurrency: c.WEBHOOK_CONCURRENCY, maxPending: c.WEBHOOK_MAX_PENDING,
      registry: this.#deps.metrics, logger: this.#log,
    };
  }

  /**
   * After the node's sockets are closed: releases this node's counts (the grace of its users
   * starts now, so a user who reconnected elsewhere within it gives no event), stops the
   * sender (on NATS, unsent events stay with the durable consumer for the other nodes) and
   * closes the events' connection. Idempotent.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    this.#tracker = undefined;
    this.#publisher = undefined;
    await this.#presence?.close().catch((err: unknown) => this.#log.warn({ err }, 'presence close failed'));
    await this.#webhooks?.close().catch((err: unknown) => this.#log.warn({ err }, 'webhook sender close failed'));
    if (this.#nc) await this.#nc.drain().catch(() => this.#nc?.close());
  }
}
