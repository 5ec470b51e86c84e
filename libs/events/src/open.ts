/**
 * Opening presence tracking and event publishing for one node: on NATS (KV bucket, events
 * stream, heartbeats) or in memory (one process).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@herald/telemetry';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createHash } from 'node:crypto';
import { KvPresenceStore, type StoreStats } from './kv-store.js';
import { NodeLiveness } from './liveness.js';
import { MemoryEventHub } from './memory-hub.js';
import { MemoryPresenceStore } from './memory-store.js';
import { eventNames, type EventNames } from './names.js';
import { NatsEventPublisher } from './nats-publisher.js';
import { ensureEventStreams, eventStreamConfigs, type EventStreamOptions } from './nats-streams.js';
import { PresenceTracker } from './tracker.js';

export interface PresenceOptions {
  /** Node name (connection events, logs); the store uses a unique incarnation derived from it. */
  readonly node: string;
  readonly graceMs: number;
  readonly connectionEvents?: boolean;
  readonly logger?: Logger;
}

export interface NatsPresenceOptions extends PresenceOptions {
  readonly nc: NatsConnection;
  /** Subject prefix (HERALD_NATS_PREFIX); default `herald`. */
  readonly prefix?: string;
  /** Replicas of the bucket and streams (3 on a 3-server cluster). */
  readonly replicas?: number;
  /** Heartbeat period, ms (default: a fifth of the grace, between 200 ms and 2 s). */
  readonly heartbeatMs?: number;
  readonly streams?: Partial<Omit<EventStreamOptions, 'replicas'>>;
  readonly timeoutMs?: number;
  /** Give up creating the bucket and streams after this long, ms (a fresh cluster elects leaders first). */
  readonly startupTimeoutMs?: number;
  /** Re-read each written entry this long after the write and repair this node's slot (0: off). See tracker.ts. */
  readonly verifyMs?: number;
}

/** Default delay of the check after a write (clustered CAS on nats-server < 2.9.21 can lose a write). */
export const DEFAULT_VERIFY_MS = 250;

export interface Presence {
  readonly tracker: PresenceTracker;
  readonly names: EventNames;
  /** NATS round trips made by the store so far (NATS only): the cost figures of docs/events.md. */
  readonly stats?: StoreStats;
  /** Releases this node's counts (grace starts now), stops heartbeats. Does not close the NATS connection. */
  close(): Promise<void>;
}

/** A unique incarnation of a node: restarting with the same node id is a new incarnation. */
export function incarnationOf(node: string): string {
  return `${node}~${randomBytes(4).toString('hex')}`;
}

export const DEFAULT_STREAM_OPTIONS: Omit<EventStreamOptions, 'replicas'> = {
  maxAgeMs: 24 * 3_600_000,
  duplicateWindowMs: 120_000,
  deadMaxAgeMs: 7 * 24 * 3_600_000,
};

/** Creates (or updates) the events and dead-letter streams of a prefix. */
export async function ensureStreams(nc: NatsConnection, names: EventNames, replicas: number, streams: Partial<Omit<EventStreamOptions, 'replicas'>> = {}, timeoutMs = 30_000): Promise<void> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  await ensureEventStreams(jsm, eventStreamConfigs(names, { ...DEFAULT_STREAM_OPTIONS, ...streams, replicas }), Date.now() + timeoutMs);
}

export async function openNatsPresence(o: NatsPresenceOptions): Promise<Presence> {
  const names = eventNames(o.prefix);
  const replicas = o.replicas ?? 1;
  const startup = o.startupTimeoutMs ?? 30_000;
  await ensureStreams(o.nc, names, replicas, o.streams, startup);
  const kv = await openBucket(o.nc, names.presenceBucket, replicas, o.timeoutMs ?? 5000, Date.now() + startup);
  const epoch = createHash('sha256').update((await kv.status()).streamInfo.created).digest('base64url').slice(0, 12);
  const publisher = new NatsEventPublisher(o.nc, names, o.timeoutMs);
  // Decisions after a conflict read the leader's copy (see kv-store.ts).
  const leader = await new Kvm(jetstream(o.nc, { timeout: o.timeoutMs ?? 5000 })).open(names.presenceBucket, { allow_direct: false });
  const store = new KvPresenceStore(kv, epoch, publisher, o.logger, leader);
  const tracker = new PresenceTracker({
    incarnation: incarnationOf(o.node), node: o.node, store, publisher, graceMs: o.graceMs, verifyMs: o.verifyMs ?? DEFAULT_VERIFY_MS,
    ...(o.connectionEvents === undefined ? {} : { connectionEvents: o.connectionEvents }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
  const heartbeatMs = o.heartbeatMs ?? Math.min(2000, Math.max(200, Math.floor(o.graceMs / 5)));
  const liveness = new NodeLiveness(kv, tracker, { heartbeatMs, ...(o.logger === undefined ? {} : { logger: o.logger }) });
  await liveness.start();
  return {
    tracker,
    names,
    stats: store.stats,
    close: async () => {
      await tracker.close();
      await liveness.stop();
    },
  };
}

/** Opens the presence bucket, creating it (history 1, file storage, no TTL: entries live until deleted). */
async function openBucket(nc: NatsConnection, bucket: string, replicas: number, timeoutMs: number, deadline: number): Promise<Awaited<ReturnType<Kvm['create']>>> {
  const kvm = new Kvm(jetstream(nc, { timeout: timeoutMs }));
  for (;;) {
    try {
      return await kvm.create(bucket, { history: 1, replicas });
    } catch (err) {
      if (Date.now() + 500 >= deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export interface MemoryPresence extends Presence {
  /** The in-process hub the webhook sender listens to. */
  readonly hub: MemoryEventHub;
}

/** Presence of one process: the same tracker over a map, events to an in-process hub (not durable). */
export function openMemoryPresence(o: PresenceOptions & { readonly hub?: MemoryEventHub; readonly prefix?: string }): MemoryPresence {
  const hub = o.hub ?? new MemoryEventHub();
  const store = new MemoryPresenceStore(hub, o.logger);
  const tracker = new PresenceTracker({
    incarnation: incarnationOf(o.node), node: o.node, store, publisher: hub, graceMs: o.graceMs,
    ...(o.connectionEvents === undefined ? {} : { connectionEvents: o.connectionEvents }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  });
  return { tracker, hub, names: eventNames(o.prefix), close: () => tracker.close({ release: false }) };
}
