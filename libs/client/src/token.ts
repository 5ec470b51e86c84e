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
  readonly exp?: number;
  readonly topics?: readonly string[];
}

/** @internal The payload's `exp` and `topics`, or nothing when the token is not a readable JWT. */
export function readClaims(token: string): Claims {
  try {
    const payload = JSON.parse(decodeBase64Url(token.split('.')[1] ?? '')) as { exp?: unknown; topics?: unknown };
    const out: { exp?: number; topics?: string[] } = {};
    if (typeof payload.exp === 'number') out.exp = payload.exp;
    if (Array.isArray(payload.topics)) out.topics = payload.topics.filter((t): t is string => typeof t === 'string');
    return out;
  } catch {
    return {};
  }
}

/** @internal */
export class TokenSource {
  #token: string | undefined;
  #stale = false;
  #inflight: Promise<string> | undefined;
  readonly #getToken: (() => string | Promise<string>) | undefined;

  constructor(token: string | undefined, getToken: (() => string | Promise<string>) | undefined) {
    this.#token = token;
    this.#getToken = getToken;
  }

  /** The token as it is now (may be expired). */
  get current(): string | undefined {
    return this.#token;
  }

  get canRefresh(): boolean {
    return this.#getToken !== undefined;
  }

  /** A token from the application (`setToken`): used from now on. */
  set(token: string): void {
    this.#token = token;
    this.#stale = false;
  }

  /** The gateway refused the token (401, 4001): the next `usable()` asks for a new one. */
  invalidate(): void {
    this.#stale = true;
  }

  /** A token to connect with: the current one unless missing, stale or expired (then `getToken()`). */
  async usable(nowMs: number): Promise<string | undefined> {
    const t = this.#token;
    const exp = t === undefined ? undefined : readClaims(t).exp;
    const expired = exp !== undefined && exp - EXPIRY_MARGIN_S <= nowMs / 1000;
    if (this.#getToken !== undefined && (t === undefined || this.#stale || expired)) return this.fresh();
    return t;
  }

  /** Always asks `getToken()` (one call at a time); rejects when there is none or it fails. */
  fresh(): Promise<string> {
    const get = this.#getToken;
    if (get === undefined) return Promise.reject(new Error('no getToken option'));
    this.#inflight ??= Promise.resolve()
      .then(get)
      .then((token) => {
        if (typeof token !== 'string' || token.length === 0) throw new TypeError('getToken() returned no token');
        this.#token = token;
        this.#stale = false;
        return token;
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }
}
