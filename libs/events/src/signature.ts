/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, one `v1,…` entry per secret (space-separated) during a rotation.
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Secret prefix of the Standard Webhooks convention: `whsec_` + base64 of the key bytes. */
export const SECRET_PREFIX = 'whsec_';
/** Fewest key bytes accepted (the convention recommends 24 to 64 random bytes). */
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;

/** A signing key; its text is never kept, so no log or error can show it. */
export interface SigningKey {
  readonly bytes: Buffer;
}

/**
 * Parses a `whsec_<base64>` secret. Throws an error that never contains the secret.
 */
export function parseSecret(secret: string): SigningKey {
  const text = secret.trim();
  if (!text.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret is ${SECRET_PREFIX} followed by base64 (e.g. ${SECRET_PREFIX}$(openssl rand -base64 32))`);
  const b64 = text.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error(`a webhook secret after ${SECRET_PREFIX} must be base64`);
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < MIN_SECRET_BYTES || bytes.length > MAX_SECRET_BYTES) {
    throw new Error(`a webhook secret must decode to ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, this one has ${bytes.length}`);
  }
  return { bytes };
}

/** base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`. */
export function signature(key: SigningKey, id: string, timestampS: number, body: string): string {
  return createHmac('sha256', key.bytes).update(`${id}.${timestampS}.${body}`).digest('base64');
}

/** The three Standard Webhooks headers of one request. */
export interface WebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** Signs one request with every key (a rotation signs with old and new keys). */
export function signHeaders(keys: readonly SigningKey[], id: string, timestampS: number, body: string): WebhookHeaders {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampS),
    'webhook-signature': keys.map((k) => `v1,${signature(k, id, timestampS, body)}`).join(' '),
  };
}

/**
 * Verifies a request the way a receiver does: one `v1,` entry must match, compared in constant
 * time, and the timestamp must be within `toleranceS` of `nowS` (replay protection).
 */
export function verifySignature(
  key: SigningKey, headers: { readonly id: string; readonly timestamp: string; readonly signature: string }, body: string,
  nowS: number = Math.floor(Date.now() / 1000), toleranceS = 300,
): boolean {
  if (!/^\d{1,12}$/.test(headers.timestamp)) return false;
  const ts = Number(headers.timestamp);
  if (Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(signature(key, headers.id, ts, body), 'base64');
  for (const entry of headers.signature.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || value === undefined) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  }
  return false;
}
