/**
 * The events stream and the dead-letter stream: created at start, or updated when they exist
 * with other limits. A stream of that name holding other subjects belongs to another install
 * (another prefix) and is refused, never moved.
 * @module
 */
import { nanos } from '@nats-io/transport-node';
import {
  DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig,
} from '@nats-io/jetstream';
import { addOrGetStream, retrySetup } from '@herald/bus';
import type { EventNames } from './names.js';

/** JetStream's "no suitable peers for placement": a fresh cluster has not met every server yet. */
const NO_SUITABLE_PEERS = 10005;

export interface EventStreamOptions {
  readonly replicas: number;
  /** How long events stay on the stream, ms: at least the webhook retry horizon. */
  readonly maxAgeMs: number;
  /** Window in which a republished event id is dropped by JetStream, ms. */
  readonly duplicateWindowMs: number;
  /** How long dead letters stay, ms. */
  readonly deadMaxAgeMs: number;
}

export function eventStreamConfigs(names: EventNames, o: EventStreamOptions): Array<Partial<StreamConfig> & { name: string }> {
  const base = { retention: RetentionPolicy.Limits, storage: StorageType.File, discard: DiscardPolicy.Old, num_replicas: o.replicas };
  return [
    {
      ...base, name: names.eventsStream, subjects: [names.eventsWildcard], max_age: nanos(o.maxAgeMs),
      // JetStream refuses a duplicate window longer than max_age.
      duplicate_window: nanos(Math.min(o.duplicateWindowMs, o.maxAgeMs)),
    },
    { ...base, name: names.deadStream, subjects: [names.deadWildcard], max_age: nanos(o.deadMaxAgeMs), duplicate_window: nanos(Math.min(120_000, o.deadMaxAgeMs)) },
  ];
}

/** Creates or updates one stream; refuses a stream of that name holding other subjects. */
export async function ensureEventStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const { created, info } = await addOrGetStream(jsm, config);
  if (created) return;
  const held = info.config.subjects ?? [];
  const ours = config.subjects ?? [];
  if (held.join(' ') !== ours.join(' ')) {
    throw new Error(`stream ${config.name} holds ${held.join(', ') || 'no subjects'}, not ${ours.join(', ')}: give each install sharing this NATS its own HERALD_NATS_PREFIX`);
  }
  await jsm.streams.update(config.name, config);
}

/** Pause between attempts while JetStream is not ready. */
const STREAM_RETRY_MS = 500;

/**
 * Whether a failure of {@link ensureEventStream} is final: its refusal of another install's
 * stream, or a JetStream refusal other than 503 (no JetStream leader yet) and 10005 (the peers
 * needed for the replicas are not all known yet). Anything else (a timeout, no responders) is
 * JetStream starting.
 */
function isFinalEventStreamError(err: unknown): boolean {
  if (err instanceof Error && err.message.includes('HERALD_NATS_PREFIX')) return true;
  if (!(err instanceof JetStreamApiError)) return false;
  return !(err.status === 503 || err.code === NO_SUITABLE_PEERS || /no suitable peers/i.test(err.message));
}

/**
 * {@link ensureEventStream} for each config, retried while JetStream is not ready (a fresh cluster
 * elects its leader). No attempt starts at or after `deadline` (ms since the Unix epoch), the
 * caller's startup deadline, shared by all the configs.
 */
export async function ensureEventStreams(jsm: JetStreamManager, configs: ReadonlyArray<Partial<StreamConfig> & { name: string }>, deadline: number): Promise<void> {
  for (const config of configs) {
    await retrySetup(() => ensureEventStream(jsm, config), {
      deadline,
      isFinal: isFinalEventStreamError,
      pause: { kind: 'fixed', ms: STREAM_RETRY_MS },
      stopWhen: 'next-attempt-late',
    });
  }
}
