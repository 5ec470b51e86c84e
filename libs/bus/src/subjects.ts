/**
 * Channel ↔ NATS subject mapping: the only module that knows Herald's subject scheme.
 *
 * Every subject starts with a prefix (`herald` unless HERALD_NATS_PREFIX says otherwise),
 * so that two installs sharing one NATS cluster never see each other's messages, canaries
 * or control requests. With prefix `<p>`:
 *
 * | what                  | subject                          |
 * |-----------------------|----------------------------------|
 * | stored (history)      | `<p>.in.topic.<topic name>`      |
 * |                       | `<p>.in.user.<base64url(user id)>` |
 * | live (RePublish copy) | the same under `<p>.out.`        |
 * | canary                | `<p>.in.canary.<node>` → `<p>.out.canary.<node>` |
 * | control               | `<p>.ctl.disconnect`, `<p>.ctl.presence` |
 *
 * With N > 1 partitions (HERALD_NATS_PARTITIONS), a channel lives in partition
 * k = {@link partitionOf}, whose stored and live subjects are `<p>.in.<k>.<kind>.…` and
 * `<p>.out.<k>.<kind>.…` (its own stream), partition 0 included: no stream holds the
 * unpartitioned `<p>.in.<kind>.…` then, so a backend that publishes there unaware of
 * partitions is refused by JetStream (no stream) instead of storing where nobody reads,
 * and a nats-server 2.10+ subject mapping `<p>.in.user.*` →
 * `<p>.in.{{partition(N,1)}}.user.{{wildcard(1)}}` computes the same partition (a mapping
 * function fills a whole token, hence the bare number). With one partition the names are
 * those of the table. Canaries are in partition 0; control requests stay under `<p>.ctl.`.
 *
 * Topic names are dot-separated `[A-Za-z0-9_-]` segments, already valid NATS tokens,
 * so `topic:a.b` maps to `herald.in.topic.a.b` (backends on NATS can publish to it
 * directly). A user id may hold `.`, `*`, `>` or spaces, so it is encoded as
 * base64url without padding: one token of `[A-Za-z0-9_-]`, never a wildcard.
 * @module
 */
import { parseChannel, TOPIC_PREFIX, USER_PREFIX } from '@herald/protocol';
import { BusError } from './errors.js';

/** Default subject prefix: the subjects every install used before prefixes existed. */
export const DEFAULT_SUBJECT_PREFIX = 'herald';
/** A prefix: one to four dot-separated tokens of `[A-Za-z0-9_-]`, at most 64 characters in all. */
export const SUBJECT_PREFIX_PATTERN = /^(?=.{1,64}$)[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,3}$/;

/** Most partitions an install may have (HERALD_NATS_PARTITIONS). */
export const MAX_PARTITIONS = 64;

/** Where a channel lives: its partition and its stored and live subjects. */
export interface ChannelRoute {
  readonly partition: number;
  readonly in: string;
  readonly out: string;
}

/** The subjects of one install: every subject under one prefix. */
export interface SubjectScheme {
  readonly prefix: string;
  /** Number of partitions: channels are spread over this many streams (1: all in partition 0). */
  readonly partitions: number;
  /** Prefix of stored subjects of partition 0 (`<p>.in.`, `<p>.in.0.` with several partitions); its stream holds `<inPrefix>>`. */
  readonly inPrefix: string;
  /** Prefix of live subjects of partition 0 (`<p>.out.`, `<p>.out.0.` with several; the RePublish destination). */
  readonly outPrefix: string;
  /** Every stored subject of partition 0. */
  readonly inWildcard: string;
  /** Every live subject of partition 0. */
  readonly outWildcard: string;
  /** Control request: close a user's connections on every node. */
  readonly ctlDisconnect: string;
  /** Control request: count connections or subscribers on every node. */
  readonly ctlPresence: string;
  /** Prefix of stored subjects of a partition: `<p>.in.` with one partition, `<p>.in.<k>.` with several. */
  inPrefixOf(partition: number): string;
  /** Prefix of live subjects of a partition: `<p>.out.` with one partition, `<p>.out.<k>.` with several. */
  outPrefixOf(partition: number): string;
  /** Partition of a channel (canaries: 0). Throws BusError('invalid') for an invalid channel. */
  partitionOf(channel: string): number;
  /** Partition, stored and live subject of a channel at once. Throws BusError('invalid') for an invalid channel. */
  locate(channel: string): ChannelRoute;
  /** Stored subject of a channel. Throws BusError('invalid') for an invalid channel. */
  in(channel: string): string;
  /** Live subject of a channel. Throws BusError('invalid') for an invalid channel. */
  out(channel: string): string;
  /**
   * Channel of one of this scheme's in/out subjects; `undefined` for any other subject,
   * including a channel's subject under a partition it does not belong to.
   */
  channelOf(subject: string): string | undefined;
}

/**
 * The scheme of a prefix and a partition count. Throws BusError('invalid') for a prefix that
 * is not {@link SUBJECT_PREFIX_PATTERN} or a count that is not an integer in 1..{@link MAX_PARTITIONS}.
 */
export function subjectScheme(prefix: string = DEFAULT_SUBJECT_PREFIX, partitions = 1): SubjectScheme {
  if (!SUBJECT_PREFIX_PATTERN.test(prefix)) {
    throw new BusError('invalid', `subject prefix ${JSON.stringify(prefix.slice(0, 100))} is not 1-4 dot-separated tokens of [A-Za-z0-9_-] (at most 64 characters)`);
  }
  if (!Number.isSafeInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new BusError('invalid', `partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`);
  }
  const one = partitions === 1;
  const inBase = `${prefix}.in.`;
  const outBase = `${prefix}.out.`;
  const inPrefixes = Array.from({ length: partitions }, (_, k) => (one ? inBase : `${inBase}${k}.`));
  const outPrefixes = Array.from({ length: partitions }, (_, k) => (one ? outBase : `${outBase}${k}.`));
  const inPrefix = inPrefixes[0] as string;
  const outPrefix = outPrefixes[0] as string;
  /** Channel of `<k>.<kind>.<tokens>` (the part after `<p>.in.` or `<p>.out.`) with several partitions. */
  const partitioned = (rest: string): string | undefined => {
    const dot = rest.indexOf('.');
    const digits = rest.slice(0, dot);
    if (dot < 0 || !/^(0|[1-9][0-9]*)$/.test(digits)) return undefined;
    const k = Number(digits);
    return k < partitions ? suffixIn(rest.slice(dot + 1), k) : undefined;
  };
  const checkPartition = (k: number): number => {
    if (!Number.isSafeInteger(k) || k < 0 || k >= partitions) throw new BusError('invalid', `no partition ${String(k)} of ${partitions}`);
    return k;
  };
  const locate = (channel: string): ChannelRoute => {
    const suffix = channelSuffix(channel);
    const partition = partitionOfSuffix(suffix, partitions);
    return { partition, in: (inPrefixes[partition] as string) + suffix, out: (outPrefixes[partition] as string) + suffix };
  };
  const suffixIn = (rest: string, k: number): string | undefined => {
    const channel = channelOfSuffix(rest);
    if (channel === undefined) return undefined;
    // a channel published under a partition it does not belong to is not one of ours
    return partitionOfSuffix(rest, partitions) === k ? channel : undefined;
  };
  return {
    prefix,
    partitions,
    inPrefix,
    outPrefix,
    inWildcard: `${inPrefix}>`,
    outWildcard: `${outPrefix}>`,
    ctlDisconnect: `${prefix}.ctl.disconnect`,
    ctlPresence: `${prefix}.ctl.presence`,
    inPrefixOf: (k) => inPrefixes[checkPartition(k)] as string,
    outPrefixOf: (k) => outPrefixes[checkPartition(k)] as string,
    partitionOf: (channel) => partitionOfSuffix(channelSuffix(channel), partitions),
    locate,
    in: (channel) => {
      const suffix = channelSuffix(channel);
      return (inPrefixes[partitionOfSuffix(suffix, partitions)] as string) + suffix;
    },
    out: (channel) => {
      const suffix = channelSuffix(channel);
      return (outPrefixes[partitionOfSuffix(suffix, partitions)] as string) + suffix;
    },
    channelOf: (subject) => {
      const base = subject.startsWith(inBase) ? inBase.length : subject.startsWith(outBase) ? outBase.length : -1;
      if (base < 0) return undefined;
      return one ? suffixIn(subject.slice(base), 0) : partitioned(subject.slice(base));
    },
  };
}

/**
 * FNV-1a, 32 bits, of a string of ASCII characters (each one byte in UTF-8): the hash
 * nats-server's `{{partition()}}` subject mapping uses (2.10+).
 */
export function fnv1a32(ascii: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ascii.length; i++) {
    h ^= ascii.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Partition of a channel among `partitions`, stable across processes, versions and
 * languages: FNV-1a (32 bits) of the channel's name tokens as they appear in its subject,
 * concatenated without the dots, modulo the count. For `user:<id>` that is the one
 * base64url token of the id; for `topic:a.b` it is `ab`. This is what nats-server 2.10's
 * `{{partition(N,1)}}` computes from `<p>.in.user.*`, and `{{partition(N,1,2)}}` from
 * `<p>.in.topic.*.*`, so a server-side mapping could take over the choice.
 * Canaries are always in partition 0. Throws BusError('invalid') for an invalid channel.
 */
export function partitionOf(channel: string, partitions: number): number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new BusError('invalid', `partitions must be a positive integer, got ${String(partitions)}`);
  return partitionOfSuffix(channelSuffix(channel), partitions);
}

/** Partition of the `<kind>.<tokens>` part of a subject. */
function partitionOfSuffix(suffix: string, partitions: number): number {
  if (partitions === 1 || suffix.startsWith('canary.')) return 0;
  const name = suffix.slice(suffix.indexOf('.') + 1);
  return fnv1a32(name.includes('.') ? name.replaceAll('.', '') : name) % partitions;
}

/** The default scheme (prefix `herald`). */
export const DEFAULT_SUBJECTS: SubjectScheme = subjectScheme();

/** Prefix of stored subjects of the default scheme; the stream holds `herald.in.>`. */
export const IN_PREFIX = DEFAULT_SUBJECTS.inPrefix;
/** Prefix of live subjects (RePublish destination) of the default scheme. */
export const OUT_PREFIX = DEFAULT_SUBJECTS.outPrefix;
/** Every stored subject of the default scheme. */
export const IN_WILDCARD = DEFAULT_SUBJECTS.inWildcard;
/** Every live subject of the default scheme. */
export const OUT_WILDCARD = DEFAULT_SUBJECTS.outWildcard;
/** Control request subject of the default scheme: close a user's connections on every node. */
export const CTL_DISCONNECT = DEFAULT_SUBJECTS.ctlDisconnect;
/** Control request subject of the default scheme: count connections or subscribers on every node. */
export const CTL_PRESENCE = DEFAULT_SUBJECTS.ctlPresence;

/** Channel-like name of a node's canary (never a valid `topic:`/`user:` channel). */
export const CANARY_PREFIX = 'canary:';

const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** base64url of the UTF-8 bytes, no padding. */
export function encodeToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Inverse of {@link encodeToken}; `undefined` when `token` is not canonical base64url. */
export function decodeToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  // Reject non-canonical input (stray bits, invalid UTF-8): it must encode back to itself.
  return encodeToken(text) === token ? text : undefined;
}

/** The `<kind>.<token>` part shared by the in and out subjects of a channel. */
function channelSuffix(channel: string): string {
  if (channel.startsWith(CANARY_PREFIX)) return 'canary.' + nodeToken(channel.slice(CANARY_PREFIX.length));
  const ref = parseChannel(channel);
  if (!ref) throw new BusError('invalid', `not a valid channel: ${JSON.stringify(channel.slice(0, 300))}`);
  return ref.kind === 'topic' ? 'topic.' + ref.name : 'user.' + encodeToken(ref.name);
}

/** A node id as one subject token: verbatim when safe, else `~` + base64url (`~` never appears in safe ids). */
function nodeToken(nodeId: string): string {
  if (nodeId.length === 0) throw new BusError('invalid', 'empty node id');
  return SAFE_TOKEN.test(nodeId) ? nodeId : '~' + encodeToken(nodeId);
}

  /** Stored subject of a channel in the default scheme. Throws BusError('invalid') for an invalid channel. */
export function inSubject(channel: string): string {
  return DEFAULT_SUBJECTS.in(channel);
}

/** Live subject of a channel in the default scheme. Throws BusError('invalid') for an invalid channel. */
export function outSubject(channel: string): string {
  return DEFAULT_SUBJECTS.out(channel);
}

/** The canary pseudo-channel of a node (`canary:<node>`), stored and republished like a channel. */
export function canaryChannel(nodeId: string): string {
  return CANARY_PREFIX + nodeId;
}

/**
 * Channel of an `herald.in.*` or `herald.out.*` subject (default scheme); `undefined` when the
 * subject is not one of ours or does not decode to a valid channel (canary subjects give `canary:<node>`).
 */
export function channelOfSubject(subject: string): string | undefined {
  return DEFAULT_SUBJECTS.channelOf(subject);
}

/** Channel of the `<kind>.<token>` part of a subject. */
function channelOfSuffix(rest: string): string | undefined {
  const dot = rest.indexOf('.');
  if (dot < 0) return undefined;
  const kind = rest.slice(0, dot);
  const token = rest.slice(dot + 1);
  if (kind === 'topic') {
    const channel = TOPIC_PREFIX + token;
    return parseChannel(channel) ? channel : undefined;
  }
  if (kind === 'user') {
    const id = decodeToken(token);
    if (id === undefined) return undefined;
    const channel = USER_PREFIX + id;
    return parseChannel(channel) ? channel : undefined;
  }
  if (kind === 'canary') {
    if (SAFE_TOKEN.test(token)) return CANARY_PREFIX + token;
    const id = token.startsWith('~') ? decodeToken(token.slice(1)) : undefined;
    return id === undefined || id.length === 0 ? undefined : CANARY_PREFIX + id;
  }
  return undefined;
}
