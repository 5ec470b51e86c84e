/**
 * The token the client connects with: the one given, or a fresh one from `getToken()` when
 * it is missing, expired, refused (401 / 4001) or about to expire (`refresh`). Reads the
 * JWT's payload (without verifying it: the gateway does) for `exp` and `topics` (the SSE
 * transport checks topics against the latter, sse-kit.ts).
 * @module
 */

import { decodeBase64Url } from './encoding.js';

/** A token this close to `exp` (seconds) is treated as expired before connecting. */
const EXPIRY_MARGIN_S = 5;

interface Claims {
  readonly exp?: number | undefined;
  readonly topics?: readonly string[] | undefined;
}

/** @internal The payload's `exp` and `topics`, or nothing when the token is not a readable JWT. */
export function readClaims(token: string): Claims {
  try {
    const { exp, topics } = JSON.parse(decodeBase64Url(token.split('.')[1] ?? '')) as { exp?: unknown; topics?: unknown };
    return { exp: typeof exp === 'number' ? exp : undefined, topics: Array.isArray(topics) ? topics.filter((t): t is string => typeof t === 'string') : undefined };
  } catch {
    return {};
  }
}

/** @internal */
export class TokenSource {
  /** The token as it is now (may be expired). */
  current: string | undefined;
  /** The gateway refused the token (401, 4001): the next `usable()` asks for a new one. */
  stale = false;
  /** The application's `getToken`; absent: the token cannot be refreshed. */
  readonly source: (() => string | Promise<string>) | undefined;
  #inflight: Promise<string> | undefined;

  constructor(token: string | undefined, getToken: (() => string | Promise<string>) | undefined) {
    this.current = token;
    this.source = getToken;
  }

  /** A token from the application (`setToken`, `getToken()`): used from now on. */
  set(token: string): string {
    this.stale = false;
    return (this.current = token);
  }

  /** A token to connect with: the current one unless missing, stale or expired (then `getToken()`). */
  async usable(nowMs: number): Promise<string | undefined> {
    const t = this.current;
    const exp = readClaims(t ?? '').exp;
    return this.source && (!t || this.stale || (exp !== undefined && exp - EXPIRY_MARGIN_S <= nowMs / 1000)) ? this.fresh() : t;
  }

  /** Always asks `getToken()` (one call at a time); rejects when there is none or it fails. */
  fresh(): Promise<string> {
    const get = this.source;
    if (!get) return Promise.reject(new Error('no getToken'));
    return (this.#inflight ??= Promise.resolve()
      .then(get)
      .then((token) => {
        if (typeof token !== 'string' || !token) throw new TypeError('no token');
        return this.set(token);
      })
      .finally(() => {
        this.#inflight = undefined;
      }));
  }
}
