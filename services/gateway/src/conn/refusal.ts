/** HTTP refusals of a connection request (WebSocket upgrade or SSE stream): the contract's error object, its status from the catalogue. */
import { AuthError } from '@herald/auth';
import { HTTP_STATUS_BY_ERROR, type HttpErrorCode } from '@herald/protocol';

/** The statuses a connection request can be refused with (the `result` label of the upgrade metrics). */
export type RefusalStatus = 400 | 401 | 403 | 429 | 500 | 503;

/** A refusal: the status comes from the error catalogue (libs/protocol/src/errors.ts), never written by hand. */
export interface Refusal {
  readonly status: RefusalStatus;
  readonly code: HttpErrorCode;
  readonly message: string;
  /** Seconds for `Retry-After` (503 and rate 429s). */
  readonly retryAfterS?: number;
}

/** The catalogue codes a connection request can be refused with: the ones whose status is a RefusalStatus. */
type RefusalCode = { [K in HttpErrorCode]: (typeof HTTP_STATUS_BY_ERROR)[K] extends RefusalStatus ? K : never }[HttpErrorCode];

/** A refusal with the catalogue's status for `code`. */
export function refusal(code: RefusalCode, message: string, retryAfterS?: number): Refusal {
  const status = HTTP_STATUS_BY_ERROR[code] as RefusalStatus;
  return Object.freeze(retryAfterS === undefined ? { status, code, message } : { status, code, message, retryAfterS });
}

/**
 * Retry-After values, seconds. A draining node will not come back: 1 s sends the client to
 * the load balancer (and another node) quickly; a full node needs longer to free slots.
 */
export const RETRY_AFTER_DRAINING_S = 1;
export const RETRY_AFTER_FULL_S = 5;
export const RETRY_AFTER_RATE_S = 1;
/** Verification keys could not be read (JWKS): worth a retry a little later. */
export const RETRY_AFTER_KEYS_S = 5;
/** The bus refused a subscription while a stream started. */
export const RETRY_AFTER_BUS_S = 1;

/** The answer to every connection request once draining began. */
export const DRAINING_REFUSAL = refusal('draining', 'node is draining; reconnect to another node', RETRY_AFTER_DRAINING_S);
export const TOKEN_MISSING_REFUSAL = refusal('token_missing', 'token missing');
export const TOO_MANY_CONNECTIONS_REFUSAL = refusal('too_many_connections', 'too many connections for this user');
export const BUS_UNAVAILABLE_REFUSAL = refusal('bus_unavailable', 'bus unavailable', RETRY_AFTER_BUS_S);

/** The refusal for a token that did not verify (401 with the auth code; 503 when keys are unavailable). */
export function authRefusal(err: unknown): Refusal {
  if (err instanceof AuthError) return refusal(err.code, err.message, err.code === 'key_unavailable' ? RETRY_AFTER_KEYS_S : undefined);
  return refusal('internal', 'token verification failed');
}
