/**
 * base64url of UTF-8 text with the platform's atob/btoa (no Buffer: browsers and Node alike).
 * Used for JWT payloads and SSE event ids.
 * @module
 */

/** @internal */
export function encodeBase64Url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** @internal Throws on input that is not base64url. */
export function decodeBase64Url(text: string): string {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  // atob decodes unpadded base64 (the HTML standard's forgiving-base64).
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
