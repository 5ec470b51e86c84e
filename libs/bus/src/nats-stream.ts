/**
 * The JetStream stream that holds Herald's history: its configuration, creation or
 * update at connect time, the epoch derived from it, and the headers Herald adds.
 * @module
 */
import { createHash } from 'node:crypto';
import { nanos } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import type { HistoryOptions } from './history.js';
import { DEFAULT_SUBJECTS, type SubjectScheme } from './subjects.js';

/** Default stream name. */
export const DEFAULT_STREAM = 'HERALD';

/** Header carrying the publish time in ms (republished copies on 2.9 have no timestamp of their own). */
export const HDR_TS = 'Herald-Ts';
/** Header carrying the publisher's idempotency key (`Nats-Msg-Id` holds a hash of channel and key). */
export const HDR_ID = 'Herald-Id';
/** Set by JetStream on stored and republished messages. */
export const HDR_SEQ = 'Nats-Sequence';
/** Set by RePublish: the previous seq of the same subject still held (0 when none). Verified on 2.9.10. */
export const HDR_LAST_SEQ = 'Nats-Last-Sequence';
/** Set by direct get: the stored subject. */
export const HDR_SUBJECT = 'Nats-Subject';
/** Set by direct get: the store time (RFC 3339 with ns). */
export const HDR_TIME = 'Nats-Time-Stamp';

/** JetStream's API error code for "stream name already in use" (the config differs). */
const STREAM_NAME_IN_USE = 10058;

/** The stream configuration for a history window. */
export function streamConfig(
  name: string, history: HistoryOptions, replicas: number, subjects: SubjectScheme = DEFAULT_SUBJECTS,
): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subjects.inWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: history.maxPerChannel,
    max_age: nanos(history.maxAgeMs),
    // JetStream refuses a duplicate window longer than max_age.
    duplicate_window: nanos(Math.min(history.dedupeWindowMs, history.maxAgeMs)),
    num_replicas: replicas,
    allow_direct: true,
    republish: { src: subjects.inWildcard, dest: subjects.outWildcard },
  };
}

/**
 * Creates the stream, or updates it to this configuration when it exists with
 * another one. Every node applies its own configuration: keep them equal.
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err;
    // Never move another install's stream onto our subjects: two installs on one cluster need two streams.
    const held = (await jsm.streams.info(config.name)).config.subjects ?? [];
    const ours = config.subjects ?? [];
    if (held.length !== ours.length || held.some((s, i) => s !== ours[i])) throw new StreamOwnedError(config.name, held, ours);
    return await jsm.streams.update(config.name, config);
  }
}

/** The stream name is taken by a stream of other subjects (another install's prefix). A configuration error: never retried. */
export class StreamOwnedError extends Error {
  constructor(stream: string, held: readonly string[], ours: readonly string[]) {
    super(`stream ${stream} holds ${held.join(', ') || 'no subjects'}, not ${ours.join(', ')}: give each install sharing this NATS its own HERALD_NATS_STREAM and HERALD_NATS_PREFIX`);
    this.name = 'StreamOwnedError';
  }
}

/** Pause between attempts while JetStream is not ready. */
const STREAM_RETRY_MS = 500;

/**
 * {@link ensureStream}, retried until `deadline` (ms since the Unix epoch) while the
 * failure is transient: a fresh cluster elects its JetStream meta leader for a few
 * seconds, and a restarted server recovers its streams. Configuration errors throw at once.
 */
export async function ensureStreamUntil(
  jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }, deadline: number, onRetry?: (err: unknown) => void,
): Promise<StreamInfo> {
  for (;;) {
    try {
      return await ensureStream(jsm, config);
    } catch (err) {
      const transient = !(err instanceof JetStreamApiError || err instanceof StreamOwnedError) || (err instanceof JetStreamApiError && err.status === 503);
      if (!transient || Date.now() + STREAM_RETRY_MS >= deadline) throw err;
      onRetry?.(err);
      await new Promise((r) => setTimeout(r, STREAM_RETRY_MS));
    }
  }
}

/** An epoch names one incarnation of the stream: a recreated stream has a new `created` time. */
export function epochOf(info: StreamInfo): string {
  return createHash('sha256').update(`${info.config.name}\n${info.created}`).digest('base64url').slice(0, 16);
}

/**
 * The `Nats-Msg-Id` of a publish: JetStream dedupes stream-wide, so the key is bound
 * to its channel (the same id on two channels stores two messages).
 */
export function msgIdOf(channel: string, id: string): string {
  return createHash('sha256').update(channel).update('\n').update(id).digest('base64url');
}

/** ms since the Unix epoch from a NATS RFC 3339 time with up to ns precision; NaN when unparsable. */
export function parseNatsTime(text: string): number {
  // Date.parse handles at most ms: cut the fraction to 3 digits.
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return Number.NaN;
  return Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`);
}
