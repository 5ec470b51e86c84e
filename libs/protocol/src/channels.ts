/**
 * Channel and topic grammar (docs/protocol.md#words): `topic:<name>` and `user:<id>`.
 * Pure functions; used by the gateway, the publish API, the bus and the SDK.
 * @module
 */

/** A topic name has 1 to 8 segments; a segment is 1 to 64 of `[A-Za-z0-9_-]`. */
export const MAX_TOPIC_SEGMENTS = 8;
export const MAX_TOPIC_SEGMENT_CHARS = 64;
/** Whole-name limit, shorter than 8 × 64 on purpose: keeps subjects and uWS topics small. */
export const MAX_TOPIC_CHARS = 200;
/** A user id (JWT `sub`) is 1 to 256 bytes of UTF-8. */
export const MAX_USER_ID_BYTES = 256;

export const TOPIC_PREFIX = 'topic:';
export const USER_PREFIX = 'user:';

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
// C0 controls, DEL and C1 controls: never allowed in a user id (they break logs and headers).
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export type ChannelKind = 'topic' | 'user';

/** A parsed channel. `name` is the topic name or the user id. */
export interface ChannelRef {
  readonly kind: ChannelKind;
  readonly name: string;
}

/** True when `name` follows the topic grammar. */
export function isValidTopic(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_TOPIC_CHARS) return false;
  const segments = name.split('.');
  if (segments.length > MAX_TOPIC_SEGMENTS) return false;
  for (const s of segments) if (!SEGMENT.test(s)) return false;
  return true;
}

/** Byte length of a string in UTF-8, without allocating. */
export function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** True when `id` is a valid user id: 1..256 UTF-8 bytes, no control characters, no lone surrogates. */
export function isValidUserId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID_BYTES) return false;
  if (CONTROL_CHARS.test(id)) return false;
  if (!isWellFormedUtf16(id)) return false;
  return utf8ByteLength(id) <= MAX_USER_ID_BYTES;
}

function isWellFormedUtf16(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (!(n >= 0xdc00 && n <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** `topic:<name>` for a topic name (not validated here). */
export function topicChannel(name: string): string {
  return TOPIC_PREFIX + name;
}

/** `user:<id>` for a user id (not validated here). */
export function userChannel(id: string): string {
  return USER_PREFIX + id;
}

/** Parses and validates a channel string; `undefined` when it is not a valid channel. */
export function parseChannel(channel: unknown): ChannelRef | undefined {
  if (typeof channel !== 'string') return undefined;
  if (channel.startsWith(TOPIC_PREFIX)) {
    const name = channel.slice(TOPIC_PREFIX.length);
    return isValidTopic(name) ? { kind: 'topic', name } : undefined;
  }
  if (channel.startsWith(USER_PREFIX)) {
    const name = channel.slice(USER_PREFIX.length);
    return isValidUserId(name) ? { kind: 'user', name } : undefined;
  }
  return undefined;
}

/** True when the string is a valid channel. */
export function isValidChannel(channel: unknown): channel is string {
  return parseChannel(channel) !== undefined;
}
