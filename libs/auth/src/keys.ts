/** Key sources for token verification: an HMAC secret, one public key, or a remote JWKS. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from './algorithms.js';
import { AuthConfigError } from './errors.js';
import { parsePublicKey } from './public-key.js';

/** Where verification keys come from. Exactly one of `hmacSecret`, `publicKey`, `jwksUrl` must be set. */
export type KeySourceConfig = {
  /** Shared secret for HS256/384/512, used as its UTF-8 bytes. */
  hmacSecret?: string;
  /** PEM (SPKI `PUBLIC KEY` or X.509 `CERTIFICATE`) or a JWK JSON string (RSA, EC, OKP/Ed25519). */
  publicKey?: string;
  /** Remote JWKS (http or https): cached, refetched on an unknown `kid`, refetches rate-limited. */
  jwksUrl?: string;
  /** Minimum interval between JWKS refetches, in ms. Default 30_000. */
  jwksCooldownMs?: number;
  /** Age after which cached JWKS keys are refetched, in ms. Default 600_000. */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of one JWKS request, in ms. Default 5_000. */
  jwksTimeoutMs?: number;
};

/** Defaults of the JWKS options (the same as jose's). */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 600_000;
export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

/** Which family of key a source holds; decides which algorithms may ever be allowed. */
export type KeySourceKind = 'hmac' | 'public' | 'jwks';

/** A ready key source. `getKey` is handed to jose, which calls it after its `alg` allow-list check. */
export interface KeySource {
  readonly kind: KeySourceKind;
  /** The algorithms this key can verify, before the configured allow-list narrows them. */
  readonly algorithms: readonly string[];
  readonly getKey: JWTVerifyGetKey;
  /** Only for an HMAC secret: the same bytes as a node:crypto key, for the synchronous path (verify-hmac.ts). */
  readonly hmacKey?: KeyObject;
}

/**
 * Builds the key source named by `config`. Keys are imported here, once, not per token.
 * @throws AuthConfigError when no source or more than one is set, or a key/URL/duration is unusable.
 */
export function createKeySource(config: KeySourceConfig): KeySource {
  const set = (['hmacSecret', 'publicKey', 'jwksUrl'] as const).filter((k) => config[k] !== undefined);
  if (set.length !== 1) {
    throw new AuthConfigError(
      set.length === 0
        ? 'one of hmacSecret, publicKey or jwksUrl is required'
        : `only one of hmacSecret, publicKey or jwksUrl may be set (got ${set.join(', ')})`,
    );
  }
  if (config.hmacSecret !== undefined) return hmacSource(config.hmacSecret);
  if (config.publicKey !== undefined) return publicKeySource(config.publicKey);
  return jwksSource(config.jwksUrl ?? '', config);
}

function hmacSource(secret: string): KeySource {
  if (typeof secret !== 'string' || secret.length === 0) throw new AuthConfigError('hmacSecret must be a non-empty string');
  const bytes = new TextEncoder().encode(secret);
  // jose re-imports a raw Uint8Array secret on every verify: import one CryptoKey per hash up front.
  const keys = new Map<string, Promise<CryptoKey>>();
  for (const alg of HMAC_ALGORITHMS) {
    const imported = crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify']);
    imported.catch(() => undefined); // surfaced on first use, never as an unhandled rejection
    keys.set(alg, imported);
  }
  return {
    kind: 'hmac',
    algorithms: HMAC_ALGORITHMS,
    hmacKey: createSecretKey(bytes),
    getKey: async (header) => {
      const key = header.alg === undefined ? undefined : keys.get(header.alg);
      if (key === undefined) throw new TypeError('no HMAC key for this algorithm'); // unreachable behind the allow-list
      return key;
    },
  };
}

function publicKeySource(text: string): KeySource {
  if (typeof text !== 'string') throw new AuthConfigError('publicKey must be a string');
  const { key, algorithms } = parsePublicKey(text);
  return { kind: 'public', algorithms, getKey: async () => key };
}

function jwksSource(rawUrl: string, config: KeySourceConfig): KeySource {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch (err) {
    throw new AuthConfigError('jwksUrl must be an absolute URL', { cause: err });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthConfigError('jwksUrl must be http or https');
  const jwks = createRemoteJWKSet(url, {
    cooldownDuration: duration('jwksCooldownMs', config.jwksCooldownMs, DEFAULT_JWKS_COOLDOWN_MS, 0),
    cacheMaxAge: duration('jwksCacheMaxAgeMs', config.jwksCacheMaxAgeMs, DEFAULT_JWKS_CACHE_MAX_AGE_MS, 1),
    timeoutDuration: duration('jwksTimeoutMs', config.jwksTimeoutMs, DEFAULT_JWKS_TIMEOUT_MS, 1),
  });
  return { kind: 'jwks', algorithms: ASYMMETRIC_ALGORITHMS, getKey: (header, token) => jwks(header, token) };
}

function duration(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new AuthConfigError(`${name} must be an integer >= ${min} (ms)`);
  return value;
}
