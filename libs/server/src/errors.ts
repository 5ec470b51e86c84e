/** Errors thrown by {@link HeraldServer}: the API's answer, or no answer at all. */

/** Wire codes of the publish API's error answers (docs/publish-api.md). */
export type ApiErrorCode =
  | 'invalid_body'
  | 'invalid_target'
  | 'invalid_id'
  | 'invalid_data'
  | 'invalid_query'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'data_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'internal'
  | 'bus_unavailable'
  /** An answer without Herald's JSON error body (a proxy's 502 page, for instance). */
  | 'unexpected_response';

/**
 * The publish API answered with an error (after the retries, for retryable ones).
 * `code` is the wire code, `status` the HTTP status.
 */
export class HeraldApiError extends Error {
  override readonly name = 'HeraldApiError';
  /** The wire code (`invalid_target`, `bus_unavailable`, ...); an unknown code from a newer server passes through. */
  readonly code: ApiErrorCode | (string & {});
  readonly status: number;
  /** For a batch refused by validation: the index of the first bad message. */
  readonly index: number | undefined;
  /** The `Retry-After` of the last answer, in milliseconds, when it had one. */
  readonly retryAfterMs: number | undefined;
  /** How many requests were sent. */
  readonly attempts: number;

  constructor(init: { code: string; status: number; message: string; index?: number; retryAfterMs?: number; attempts: number }) {
    super(init.message);
    this.code = init.code;
    this.status = init.status;
    this.index = init.index;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts;
  }
}

/**
 * No usable answer: the connection failed or the request timed out (after the retries), or the
 * caller's `signal` aborted it. For a publish, the message may or may not have been stored:
 * retrying with the same `id` is safe.
 */
export class HeraldRequestError extends Error {
  override readonly name = 'HeraldRequestError';
  readonly code: 'network_error' | 'timeout' | 'aborted';
  readonly attempts: number;

  constructor(code: 'network_error' | 'timeout' | 'aborted', message: string, attempts: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.attempts = attempts;
  }
}
