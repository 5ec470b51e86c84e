/** Bearer API-key check: constant-time comparison against every configured key. */
import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Longest Authorization header we hash. Far above any sane key; a bound so a huge
 * header costs nothing (uWS already bounds headers, this is belt and braces).
 */
const MAX_AUTHORIZATION_CHARS = 4096;

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Checks an `Authorization` header value. Returns the index of the matching key in
 * the configured list (an identifier safe to log and to key rate limits on), or
 * `undefined` when the header is missing, malformed or matches no key.
 */
export type ApiKeyCheck = (authorization: string | undefined) => number | undefined;

function digest(s: string): Buffer {
  return hash('sha256', s, 'buffer'); // one-shot: no Hash object per request
}

/**
 * Builds the check for a list of keys. Keys are compared as SHA-256 digests with
 * `timingSafeEqual`: digests have equal lengths whatever the input (so neither the
 * content nor the length of a key leaks through timing), and every key is compared
 * on every call, with no early exit.
 */
export function createApiKeyCheck(keys: readonly string[]): ApiKeyCheck {
  if (keys.length === 0) throw new TypeError('createApiKeyCheck needs at least one key');
  const digests = keys.map(digest);
  return (authorization) => {
    if (authorization === undefined || authorization.length === 0 || authorization.length > MAX_AUTHORIZATION_CHARS) return undefined;
    const m = BEARER.exec(authorization);
    if (!m || m[1] === undefined) return undefined;
    const presented = digest(m[1]);
    let match = -1;
    for (let i = 0; i < digests.length; i++) {
      // No `break`: the time taken must not depend on which key matched.
      if (timingSafeEqual(presented, digests[i] as Buffer) && match < 0) match = i;
    }
    return match >= 0 ? match : undefined;
  };
}
