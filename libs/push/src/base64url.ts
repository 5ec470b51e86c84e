/**
 * Strict base64url (RFC 4648 §5, no padding): the encoding of every Web Push key.
 * @module
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decoded bytes, or `undefined` when `text` is not canonical unpadded base64url. */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Canonical only: re-encoding must give the same text (no stray trailing bits).
  return bytes.toString('base64url') === text ? bytes : undefined;
}

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}
