/**
 * RFC 8030 message options (TTL, Urgency, Topic) and the RFC 8291 payload bound, checked
 * before any crypto so a bad call fails with a clear PushError.
 * @module
 */
import { createHash } from 'node:crypto';
import { PushError } from './errors.js';

/** RFC 8030 §5.3 Urgency values. */
export type Urgency = 'very-low' | 'low' | 'normal' | 'high';
export const URGENCIES: readonly Urgency[] = ['very-low', 'low', 'normal', 'high'];

export interface PushOptions {
  /** Seconds the push service keeps the message for an offline device (RFC 8030 §5.2); 0 = now or never. */
  readonly ttlSeconds: number;
  readonly urgency?: Urgency;
  /** Collapse key (RFC 8030 §5.4): a queued push with the same Topic is replaced. 1-32 base64url characters. */
  readonly topic?: string;
}

/**
 * Largest plaintext: RFC 8291 §4 caps a push message body at 4096 octets; aes128gcm spends 86
 * on its header (salt 16, rs 4, idlen 1, key id 65), 16 on the GCM tag and 1 on the padding
 * delimiter, leaving 3993.
 */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1;
/** Longest TTL web-push and push services accept: four weeks. */
export const MAX_TTL_SECONDS = 2_419_200;
/** RFC 8030 §5.4: a Topic is at most 32 characters of the URL- and filename-safe base64 alphabet. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** A Topic for a message id: 32 base64url characters of its SHA-256, so a re-sent push of one message collapses. */
export function topicForMessage(messageId: string): string {
  return createHash('sha256').update(messageId).digest('base64url').slice(0, 32);
}

/** Throws PushError('invalid_options') for options outside RFC 8030. */
export function assertOptions(options: PushOptions): void {
  const { ttlSeconds, urgency, topic } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new PushError('invalid_options', `TTL must be an integer number of seconds from 0 to ${MAX_TTL_SECONDS}`);
  }
  if (urgency !== undefined && !URGENCIES.includes(urgency)) {
    throw new PushError('invalid_options', `Urgency must be one of ${URGENCIES.join(', ')}`);
  }
  if (topic !== undefined && !TOPIC_PATTERN.test(topic)) {
    throw new PushError('invalid_options', 'Topic must be 1-32 characters of [A-Za-z0-9_-] (RFC 8030 §5.4)');
  }
}

/** The payload as bytes; throws PushError('payload_too_large') beyond {@link MAX_PAYLOAD_BYTES}. */
export function payloadBytes(payload: string | Uint8Array): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new PushError('payload_too_large', `push payload is ${bytes.length} bytes; at most ${MAX_PAYLOAD_BYTES} fit one RFC 8291 record`);
  }
  return bytes;
}
