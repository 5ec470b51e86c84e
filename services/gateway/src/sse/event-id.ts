/** SSE event ids: `<epoch>~<base64url(JSON {channel: seq})>`, the position of every channel of a stream (pure). */
import { MAX_EPOCH_CHARS } from '@herald/protocol';

/**
 * Longest event id accepted back (Last-Event-ID header or `?lastEventId=`), characters.
 * The longest id the gateway itself writes is about 31 KB (100 topics of 200 characters,
 * a 256-byte user id, 16-digit seqs, base64url's 4/3, a 128-character epoch), so every id
 * the gateway wrote fits; anything longer is not ours and is treated as malformed.
 */
export const MAX_EVENT_ID_CHARS = 32 * 1024;

/** Separates the epoch from the encoded positions; base64url never contains it. */
const SEPARATOR = '~';
/** base64url as written (no padding); padding is tolerated on the way back. */
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** A parsed event id: the history epoch and the last seq the client holds per channel. */
export interface StreamPosition {
  readonly epoch: string;
  /** Channel → seq. A channel of the stream that is absent held nothing (since 0). */
  readonly seqs: ReadonlyMap<string, number>;
}

/** What the request said about its position. */
export type ResumeId =
  | { readonly kind: 'absent' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'valid'; readonly position: StreamPosition };

/**
 * Encodes an event id from JSON-quoted channel keys (`"topic:news":`, quoted once per
 * stream) and their seqs; channels at seq 0 are left out. ASCII only, no line breaks.
 */
export function encodeEventId(epoch: string, keys: readonly string[], seqs: readonly number[]): string {
  let json = '{';
  for (let i = 0; i < keys.length; i++) {
    const seq = seqs[i] ?? 0;
    if (seq <= 0) continue;
    if (json.length > 1) json += ',';
    json += (keys[i] as string) + seq;
  }
  json += '}';
  return epoch + SEPARATOR + Buffer.from(json, 'utf8').toString('base64url');
}

/** The JSON key prefix of a channel in an event id (`"topic:news":`). */
export function eventIdKey(channel: string): string {
  return JSON.stringify(channel) + ':';
}

/**
 * Parses an untrusted event id. An empty value is `absent`; anything that is not exactly
 * what `encodeEventId` writes (too long, no epoch, bad base64url, not a JSON object of
 * non-negative safe integers) is `malformed`. Never throws.
 */
export function parseEventId(raw: string): ResumeId {
  if (raw.length === 0) return { kind: 'absent' };
  if (raw.length > MAX_EVENT_ID_CHARS) return { kind: 'malformed' };
  const at = raw.lastIndexOf(SEPARATOR);
  if (at <= 0 || at > MAX_EPOCH_CHARS) return { kind: 'malformed' };
  const encoded = raw.slice(at + 1);
  if (!BASE64URL.test(encoded)) return { kind: 'malformed' };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return { kind: 'malformed' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'malformed' };
  const seqs = new Map<string, number>();
  for (const [channel, seq] of Object.entries(value)) {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return { kind: 'malformed' };
    seqs.set(channel, seq);
  }
  return { kind: 'valid', position: { epoch: raw.slice(0, at), seqs } };
}
