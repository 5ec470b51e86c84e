/** The error catalogue of @herald/auth: `AuthError` for rejected tokens, `AuthConfigError` for bad configuration. */
import { HTTP_STATUS_BY_ERROR } from '@herald/protocol';

/**
 * Why a token was refused. Codes use the wire vocabulary (`{"error":{"code":…}}`);
 * {@link AUTH_ERROR_HTTP_STATUS} maps each to the status of an HTTP answer.
 */
export type AuthErrorCode =
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'alg_not_allowed'
  | 'claims_invalid'
  | 'key_unavailable';

/**
 * HTTP status for each {@link AuthErrorCode}, from the wire error catalogue (docs/protocol.md#connecting): every token failure is 401;
 * `key_unavailable` (the JWKS endpoint could not be read) is our fault, not the client's, so 503.
 */
export const AUTH_ERROR_HTTP_STATUS: Readonly<Record<AuthErrorCode, 401 | 503>> = Object.freeze({
  token_missing: HTTP_STATUS_BY_ERROR.token_missing,
  token_invalid: HTTP_STATUS_BY_ERROR.token_invalid,
  token_expired: HTTP_STATUS_BY_ERROR.token_expired,
  alg_not_allowed: HTTP_STATUS_BY_ERROR.alg_not_allowed,
  claims_invalid: HTTP_STATUS_BY_ERROR.claims_invalid,
  key_unavailable: HTTP_STATUS_BY_ERROR.key_unavailable,
});

/**
 * A token was refused. Assert on `code`, never on `message`.
 * Messages are constant texts: they never include the token or any of its parts.
 * The underlying jose error, when there is one, is kept as `cause`.
 */
export class AuthError extends Error {
  /** Machine-readable reason; see {@link AuthErrorCode}. */
  readonly code: AuthErrorCode;

  constructor(code: AuthErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}

/** A verifier could not be built from its configuration (thrown at construction, never by `verify`). */
export class AuthConfigError extends Error {
  /** Always `config_invalid`. */
  readonly code = 'config_invalid' as const;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthConfigError';
  }
}
