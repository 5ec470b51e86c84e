/** Parses a configured public key (PEM SPKI, PEM X.509 certificate or JWK JSON) and names the algorithms it fits. */
import { X509Certificate, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AsymmetricAlgorithm } from './algorithms.js';
import { AuthConfigError } from './errors.js';

/** A public key ready for jose (which caches its per-algorithm CryptoKey), with what it can verify. */
export interface ParsedPublicKey {
  readonly key: KeyObject;
  readonly algorithms: readonly AsymmetricAlgorithm[];
}

/** RSA below 2048 bits is refused by jose at verify time; refuse it at startup instead. */
const MIN_RSA_BITS = 2048;

const ALGS_BY_CURVE: Readonly<Record<string, AsymmetricAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

/**
 * Parses `text` as a JWK (when it starts with `{`) or a PEM `PUBLIC KEY` / `CERTIFICATE`.
 * @throws AuthConfigError when the text is not a usable public key (private keys and `oct` JWKs included).
 */
export function parsePublicKey(text: string): ParsedPublicKey {
  const trimmed = text.trim();
  if (trimmed === '') throw new AuthConfigError('publicKey must not be empty');
  return trimmed.startsWith('{') ? fromJwk(trimmed) : fromPem(trimmed);
}

function fromPem(pem: string): ParsedPublicKey {
  // Environment variables rarely hold real newlines: accept the common `\n`-escaped form.
  const text = pem.includes('\n') ? pem : pem.replaceAll('\\n', '\n');
  let key: KeyObject;
  try {
    if (/-----BEGIN CERTIFICATE-----/.test(text)) key = new X509Certificate(text).publicKey;
    else if (/-----BEGIN PUBLIC KEY-----/.test(text)) key = createPublicKey({ key: text, format: 'pem', type: 'spki' });
    else throw new AuthConfigError('publicKey must be a PEM "PUBLIC KEY" or "CERTIFICATE", or a JWK');
  } catch (err) {
    if (err instanceof AuthConfigError) throw err;
    throw new AuthConfigError('publicKey is not a valid PEM public key or certificate', { cause: err });
  }
  return { key, algorithms: algorithmsFor(key) };
}

function fromJwk(json: string): ParsedPublicKey {
  let jwk: unknown;
  try {
    jwk = JSON.parse(json);
  } catch (err) {
    throw new AuthConfigError('publicKey looks like a JWK but is not valid JSON', { cause: err });
  }
  if (!isRecord(jwk)) throw new AuthConfigError('publicKey JWK must be a JSON object');
  if (jwk['kty'] !== 'RSA' && jwk['kty'] !== 'EC' && jwk['kty'] !== 'OKP') {
    throw new AuthConfigError('publicKey JWK must have kty RSA, EC or OKP');
  }
  if ('d' in jwk || 'p' in jwk || 'q' in jwk) throw new AuthConfigError('publicKey JWK must not contain private key material');
  if (jwk['use'] !== undefined && jwk['use'] !== 'sig') throw new AuthConfigError('publicKey JWK "use" must be "sig"');
  const ops = jwk['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) {
    throw new AuthConfigError('publicKey JWK "key_ops" must include "verify"');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (err) {
    throw new AuthConfigError('publicKey is not a valid JWK', { cause: err });
  }
  let algorithms = algorithmsFor(key);
  const alg = jwk['alg'];
  if (alg !== undefined) {
    // A JWK that names its algorithm is used for that algorithm only.
    algorithms = algorithms.filter((a) => a === alg);
    if (algorithms.length === 0) throw new AuthConfigError('publicKey JWK "alg" does not fit the key');
  }
  return { key, algorithms };
}

function algorithmsFor(key: KeyObject): readonly AsymmetricAlgorithm[] {
  if (key.type !== 'public') throw new AuthConfigError('publicKey must be a public key');
  const details = key.asymmetricKeyDetails;
  switch (key.asymmetricKeyType) {
    case 'rsa':
      if ((details?.modulusLength ?? 0) < MIN_RSA_BITS) throw new AuthConfigError(`RSA keys must have at least ${MIN_RSA_BITS} bits`);
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = ALGS_BY_CURVE[details?.namedCurve ?? ''];
      if (alg === undefined) throw new AuthConfigError('EC keys must use P-256, P-384 or P-521');
      return [alg];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new AuthConfigError(`unsupported public key type ${String(key.asymmetricKeyType)}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
