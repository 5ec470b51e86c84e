/** The error catalogue of @herald/auth: `AuthError` for rejected tokens, `AuthConfigError` for bad configuration. */

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
 * HTTP status for each {@link AuthErrorCode} (PROTOCOL §1): every token failure is 401;
 * `key_unavailable` (the JWKS endpoint could not be read) is our fault, not the client's, so 503.
 */
export const AUTH_ERROR_HTTP_STATUS: Readonly<Record<AuthErrorCode, 401 | 503>> = Object.freeze({
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  alg_not_allowed: 401,
  claims_invalid: 401,
  key_unavailable: 503,
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
