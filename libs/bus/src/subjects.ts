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

/** The subjects of one install: every subject under one prefix. */
export interface SubjectScheme {
  readonly prefix: string;
  /** Prefix of stored subjects (`<p>.in.`); the stream holds `<p>.in.>`. */
  readonly inPrefix: string;
  /** Prefix of live subjects (`<p>.out.`, the RePublish destination). */
  readonly outPrefix: string;
  readonly inWildcard: string;
  readonly outWildcard: string;
  /** Control request: close a user's connections on every node. */
  readonly ctlDisconnect: string;
  /** Control request: count connections or subscribers on every node. */
  readonly ctlPresence: string;
  /** Stored subject of a channel. Throws BusError('invalid') for an invalid channel. */
  in(channel: string): string;
  /** Live subject of a channel. Throws BusError('invalid') for an invalid channel. */
  out(channel: string): string;
  /** Channel of one of this scheme's in/out subjects; `undefined` for any other subject. */
  channelOf(subject: string): string | undefined;
}

/** The scheme of a prefix. Throws BusError('invalid') for a prefix that is not {@link SUBJECT_PREFIX_PATTERN}. */
export function subjectScheme(prefix: string = DEFAULT_SUBJECT_PREFIX): SubjectScheme {
  if (!SUBJECT_PREFIX_PATTERN.test(prefix)) {
    throw new BusError('invalid', `subject prefix ${JSON.stringify(prefix.slice(0, 100))} is not 1-4 dot-separated tokens of [A-Za-z0-9_-] (at most 64 characters)`);
  }
  const inPrefix = `${prefix}.in.`;
  const outPrefix = `${prefix}.out.`;
  return {
    prefix,
    inPrefix,
    outPrefix,
    inWildcard: `${inPrefix}>`,
    outWildcard: `${outPrefix}>`,
    ctlDisconnect: `${prefix}.ctl.disconnect`,
    ctlPresence: `${prefix}.ctl.presence`,
    in: (channel) => inPrefix + channelSuffix(channel),
    out: (channel) => outPrefix + channelSuffix(channel),
    channelOf: (subject) => {
      if (subject.startsWith(inPrefix)) return channelOfSuffix(subject.slice(inPrefix.length));
      if (subject.startsWith(outPrefix)) return channelOfSuffix(subject.slice(outPrefix.length));
      return undefined;
    },
  };
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
