/**
 * Wire error codes: the `code` of `{"error":{"code","message"}}` HTTP answers and of
 * `err` frames, with the HTTP status each maps to.
 * @module
 */

export const HTTP_STATUS_BY_ERROR = {
  // 400
  invalid_body: 400,
  invalid_target: 400,
  invalid_data: 400,
  invalid_id: 400,
  invalid_query: 400,
  invalid_channel: 400,
  // 401 / 403
  unauthorized: 401,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  alg_not_allowed: 401,
  claims_invalid: 401,
  forbidden: 403,
  origin_not_allowed: 403,
  not_found: 404,
  method_not_allowed: 405,
  // 413 / 415
  body_too_large: 413,
  data_too_large: 413,
  unsupported_media_type: 415,
  // 429 / 5xx
  too_many_connections: 429,
  rate_limited: 429,
  internal: 500,
  bus_unavailable: 503,
  key_unavailable: 503,
  draining: 503,
  overloaded: 503,
} as const;

export type HttpErrorCode = keyof typeof HTTP_STATUS_BY_ERROR;

/** Codes of `err` frames and of failed `sub` results on the WebSocket. */
export type FrameErrorCode =
  | 'invalid' // a field is missing or malformed
  | 'unknown_op'
  | 'forbidden' // the token does not allow it
  | 'limit' // a per-connection limit was reached
  | 'token_invalid' // `auth` with a bad token
  | 'token_mismatch' // `auth` with a token for another `sub`
  | 'unavailable' // `receipt`: the inbox store cannot be reached; send it again later
  | 'internal';

/** The JSON body of every HTTP error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
