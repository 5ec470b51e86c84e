/** JWS algorithm families and the allow-list rules (no `none`, no HMAC/public-key confusion). */
import { AuthConfigError } from './errors.js';

/** HMAC algorithms: only ever verified with a shared secret. */
export const HMAC_ALGORITHMS = Object.freeze(['HS256', 'HS384', 'HS512'] as const);

/** Asymmetric algorithms: only ever verified with a public key or a JWKS. */
export const ASYMMETRIC_ALGORITHMS = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const);

/** A JWS `alg` Herald can verify. */
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const HMAC_SET: ReadonlySet<string> = new Set(HMAC_ALGORITHMS);
const ASYMMETRIC_SET: ReadonlySet<string> = new Set(ASYMMETRIC_ALGORITHMS);

/** True for `HS256`, `HS384` and `HS512`. */
export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return HMAC_SET.has(alg);
}

/**
 * The effective allow-list for a key source.
 * @param symmetric - true for an HMAC secret, false for a public key or JWKS.
 * @param supported - what the key itself can verify (e.g. only ES256 for a P-256 key).
 * @param configured - the operator's explicit list, or undefined for the default (= `supported`).
 * @throws TypeError when `none` is listed (in any case); AuthConfigError on unknown names,
 *   on a family mismatch (HMAC with a public key or the reverse), or when nothing usable remains.
 */
export function resolveAllowedAlgorithms(
  symmetric: boolean,
  supported: readonly string[],
  configured: readonly string[] | undefined,
): readonly string[] {
  if (configured === undefined) return Object.freeze([...supported]);
  if (!Array.isArray(configured) || configured.length === 0) {
    throw new AuthConfigError('algorithms must be a non-empty array of algorithm names');
  }
  for (const alg of configured) {
    if (typeof alg !== 'string') throw new AuthConfigError('algorithms must contain strings only');
    if (alg.toLowerCase() === 'none') throw new TypeError('the "none" algorithm is never allowed');
  }
  for (const alg of configured) {
    if (!HMAC_SET.has(alg) && !ASYMMETRIC_SET.has(alg)) throw new AuthConfigError(`unknown algorithm ${JSON.stringify(alg)}`);
    // Algorithm confusion: a public key must never be usable as an HMAC secret, nor the reverse.
    if (symmetric !== HMAC_SET.has(alg)) {
      throw new AuthConfigError(
        symmetric ? `${alg} cannot be used with an HMAC secret` : `${alg} cannot be used with a public key or JWKS`,
      );
    }
  }
  // An explicit list may name algorithms this key cannot do (a shared config for several keys): keep the rest.
  const allowed = supported.filter((alg) => configured.includes(alg));
  if (allowed.length === 0) throw new AuthConfigError('none of the configured algorithms fits the key');
  return Object.freeze(allowed);
}
