/**
 * Channel ↔ NATS subject mapping: the only module that knows Herald's subject scheme.
 *
 * | what                  | subject                               |
 * |-----------------------|---------------------------------------|
 * | stored (history)      | `herald.in.topic.<topic name>`        |
 * |                       | `herald.in.user.<base64url(user id)>` |
 * | live (RePublish copy) | the same under `herald.out.`          |
 * | canary                | `herald.in.canary.<node>` → `herald.out.canary.<node>` |
 * | control               | `herald.ctl.disconnect`, `herald.ctl.presence` |
 *
 * Topic names are dot-separated `[A-Za-z0-9_-]` segments, already valid NATS tokens,
 * so `topic:a.b` maps to `herald.in.topic.a.b` (backends on NATS can publish to it
 * directly). A user id may hold `.`, `*`, `>` or spaces, so it is encoded as
 * base64url without padding: one token of `[A-Za-z0-9_-]`, never a wildcard.
 * @module
 */
import { parseChannel, TOPIC_PREFIX, USER_PREFIX } from '@herald/protocol';
import { BusError } from './errors.js';

/** Prefix of stored subjects; the stream holds `herald.in.>`. */
export const IN_PREFIX = 'herald.in.';
/** Prefix of live subjects (RePublish destination). */
export const OUT_PREFIX = 'herald.out.';
/** Every stored subject. */
export const IN_WILDCARD = 'herald.in.>';
/** Every live subject. */
export const OUT_WILDCARD = 'herald.out.>';
/** Control request subject: close a user's connections on every node. */
export const CTL_DISCONNECT = 'herald.ctl.disconnect';
/** Control request subject: count connections or subscribers on every node. */
export const CTL_PRESENCE = 'herald.ctl.presence';

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

/** Stored subject of a channel. Throws BusError('invalid') for an invalid channel. */
export function inSubject(channel: string): string {
  return IN_PREFIX + channelSuffix(channel);
}

/** Live subject of a channel. Throws BusError('invalid') for an invalid channel. */
export function outSubject(channel: string): string {
  return OUT_PREFIX + channelSuffix(channel);
}

/** The canary pseudo-channel of a node (`canary:<node>`), stored and republished like a channel. */
export function canaryChannel(nodeId: string): string {
  return CANARY_PREFIX + nodeId;
}

/**
 * Channel of an `herald.in.*` or `herald.out.*` subject; `undefined` when the subject is
 * not one of ours or does not decode to a valid channel (canary subjects give `canary:<node>`).
 */
export function channelOfSubject(subject: string): string | undefined {
  let rest: string;
  if (subject.startsWith(IN_PREFIX)) rest = subject.slice(IN_PREFIX.length);
  else if (subject.startsWith(OUT_PREFIX)) rest = subject.slice(OUT_PREFIX.length);
  else return undefined;
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
