/**
 * The JetStream streams that hold Herald's history (one per partition): their
 * configuration, creation or update at connect time, the epoch derived from them, and
 * the headers Herald adds.
 * @module
 */
import { createHash } from 'node:crypto';
import { nanos } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import type { HistoryOptions } from './history.js';
import { retrySetup } from './setup-retry.js';
import { DEFAULT_SUBJECTS, type SubjectScheme } from './subjects.js';

/** Default stream name. */
export const DEFAULT_STREAM = 'HERALD';

/** Stream of a partition: the configured name for partition 0 (the stream of every install before partitions), `<name>_P<k>` for k ≥ 1. */
export function partitionStream(name: string, partition: number): string {
  return partition === 0 ? name : `${name}_P${partition}`;
}

/** What a stream's description records: its partition and the partition count of the install. */
export interface PartitionRecord {
  readonly partition: number;
  readonly of: number;
}

/** The stream description recording a partition (read back by {@link recordedPartition}). */
export function partitionDescription(record: PartitionRecord): string {
  return `Herald history: partition ${record.partition} of ${record.of} (HERALD_NATS_PARTITIONS=${record.of})`;
}

/**
 * The partition a stream description records. A stream without one was made before
 * partitions existed (or by a version that does not record them): partition 0 of 1.
 */
export function recordedPartition(description: string | undefined): PartitionRecord {
  const m = /^Herald history: partition (\d+) of (\d+)\b/.exec(description ?? '');
  return m ? { partition: Number(m[1]), of: Number(m[2]) } : { partition: 0, of: 1 };
}

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
const SUBJECTS_OVERLAP = 10065;
const STREAM_NOT_FOUND = 10059;

/**
 * The stream configuration of a partition for a history window: the stream of partition
 * `partition` of `subjects` (named by the caller, see {@link partitionStream}) holds that
 * partition's stored subjects, republishes them to its live subjects, and records the
 * partition count in its description.
 */
export function streamConfig(
  name: string, history: HistoryOptions, replicas: number, subjects: SubjectScheme = DEFAULT_SUBJECTS, partition = 0,
): Partial<StreamConfig> & { name: string } {
  const inWildcard = `${subjects.inPrefixOf(partition)}>`;
  return {
    name,
    description: partitionDescription({ partition, of: subjects.partitions }),
    subjects: [inWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: history.maxPerChannel,
    max_age: nanos(history.maxAgeMs),
    // JetStream refuses a duplicate window longer than max_age.
    duplicate_window: nanos(Math.min(history.dedupeWindowMs, history.maxAgeMs)),
    num_replicas: replicas,
    allow_direct: true,
    republish: { src: inWildcard, dest: `${subjects.outPrefixOf(partition)}>` },
  };
}

/**
 * Creates the stream, or updates it to this configuration when it exists with
 * another one. Every node applies its own configuration: keep them equal. Refuses
 * (without touching the stream) a stream of other subjects ({@link StreamOwnedError}) or
 * one recording another partition or partition count ({@link PartitionsChangedError}).
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  const { created, info } = await addOrGetStream(jsm, config);
  if (created) return info;
  // Never move another install's stream onto our subjects: two installs on one cluster need two streams.
  const held = info.config.subjects ?? [];
  const ours = config.subjects ?? [];
  const same = held.length === ours.length && held.every((s, i) => s === ours[i]);
  // Another partition count first (with one partition the stream holds `<p>.in.>`, with several
  // `<p>.in.0.>`): the subjects differ then too, and the count is what to tell the operator.
  const had = recordedPartition(info.config.description);
  const want = recordedPartition(config.description);
  const install = installPrefixOf(ours[0] ?? '');
  if ((had.partition !== want.partition || had.of !== want.of) && held.length === 1 && install !== undefined && installPrefixOf(held[0] as string) === install) {
    throw new PartitionsChangedError(config.name, had, want);
  }
  if (!same) throw new StreamOwnedError(config.name, held, ours);
  return await jsm.streams.update(config.name, config);
}

/**
 * Adds the stream, or, when a stream of that name exists, returns its info (`created: false`)
 * for the caller to check and update. Processes starting together race to create it, and
 * nats-server 2.9 answers the losers in two odd ways, both handled here: "subjects overlap"
 * instead of "name in use" (only a stream of this name settles that; an overlap with a stream of
 * another name stands), and success with a zero `created` time (read back: epochs are made of it).
 */
export async function addOrGetStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<{ created: boolean; info: StreamInfo }> {
  try {
    const info = await jsm.streams.add(config);
    return { created: true, info: info.created.startsWith('0001-') ? await jsm.streams.info(config.name) : info };
  } catch (err) {
    if (!(err instanceof JetStreamApiError && (err.code === STREAM_NAME_IN_USE || err.code === SUBJECTS_OVERLAP))) throw err;
    try {
      return { created: false, info: await jsm.streams.info(config.name) };
    } catch (infoErr) {
      throw infoErr instanceof JetStreamApiError && infoErr.code === STREAM_NOT_FOUND ? err : infoErr;
    }
  }
}

/** The subject prefix of an install from its stream's subjects (`<p>.in.>` or `<p>.in.<k>.>`). */
function installPrefixOf(streamSubject: string): string | undefined {
  return /^(.*)\.in\.(?:\d+\.)?>$/.exec(streamSubject)?.[1];
}

/** The stream name is taken by a stream of other subjects (another install's prefix). A configuration error: never retried. */
export class StreamOwnedError extends Error {
  constructor(stream: string, held: readonly string[], ours: readonly string[]) {
    super(`stream ${stream} holds ${held.join(', ') || 'no subjects'}, not ${ours.join(', ')}: give each install sharing this NATS its own HERALD_NATS_STREAM and HERALD_NATS_PREFIX`);
    this.name = 'StreamOwnedError';
  }
}

/**
 * The stream records another partition count than this process's HERALD_NATS_PARTITIONS
 * (or another partition). A configuration error, never retried: processes that disagree on
 * the count would publish a channel to one stream while gateways listen to another.
 */
export class PartitionsChangedError extends Error {
  readonly held: PartitionRecord;
  readonly wanted: PartitionRecord;
  constructor(stream: string, held: PartitionRecord, wanted: PartitionRecord) {
    const base = wanted.partition > 0 ? stream.slice(0, -`_P${wanted.partition}`.length) : stream;
    const old = Array.from({ length: held.of }, (_, k) => partitionStream(base, k)).join(', ');
    super(
      `stream ${stream} holds partition ${held.partition} of ${held.of} (HERALD_NATS_PARTITIONS=${held.of}), this process runs with HERALD_NATS_PARTITIONS=${wanted.of}: ` +
      `every gateway and publish API of an install must use the same value. To change it, stop all of them, delete ${held.of === 1 ? 'the stream' : 'the streams'} ${old} ` +
      `(${held.of === 1 ? 'its' : 'their'} history is lost; clients see a new epoch), then start them with the new value (docs/operations.md, "Partitions")`,
    );
    this.name = 'PartitionsChangedError';
    this.held = held;
    this.wanted = wanted;
  }
}

/** Pause between attempts while JetStream is not ready. */
const STREAM_RETRY_MS = 500;

/**
 * Whether a failure of {@link ensureStream} is final: a JetStream refusal other than 503 (no meta
 * leader yet), or a stream of another install or partition count. Anything else (a timeout, no
 * responders) is JetStream starting.
 */
function isFinalStreamError(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.status !== 503;
  return err instanceof StreamOwnedError || err instanceof PartitionsChangedError;
}

/**
 * {@link ensureStream}, retried until `deadline` (ms since the Unix epoch) while the
 * failure is transient: a fresh cluster elects its JetStream meta leader for a few
 * seconds, and a restarted server recovers its streams. Configuration errors throw at once.
 * No attempt starts at or after the deadline: it is the caller's own startup deadline.
 */
export async function ensureStreamUntil(
  jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }, deadline: number, onRetry?: (err: unknown) => void,
): Promise<StreamInfo> {
  return await retrySetup(() => ensureStream(jsm, config), {
    deadline,
    isFinal: isFinalStreamError,
    pause: { kind: 'fixed', ms: STREAM_RETRY_MS },
    stopWhen: 'next-attempt-late',
    onRetry: onRetry && (({ err }) => onRetry(err)),
  });
}

/** An epoch names one incarnation of the stream: a recreated stream has a new `created` time. */
export function epochOf(info: StreamInfo): string {
  return createHash('sha256').update(`${info.config.name}\n${info.created}`).digest('base64url').slice(0, 16);
}

/**
 * The epoch of an install's streams, in partition order: with one partition exactly
 * {@link epochOf} (an install keeps its epoch when it upgrades to a version with
 * partitions), with several a hash of every stream's name and creation time, so that a
 * recreated partition (or another partition count) gives a new epoch.
 */
export function epochOfPartitions(infos: readonly StreamInfo[]): string {
  if (infos.length === 1) return epochOf(infos[0] as StreamInfo);
  const h = createHash('sha256').update(`partitions ${infos.length}`);
  for (const info of infos) h.update(`\n${info.config.name}\n${info.created}`);
  return h.digest('base64url').slice(0, 16);
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
