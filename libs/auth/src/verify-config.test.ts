// Unit tests for verifier construction: key source rules, allow-list rules (no none, no confusion), option checks.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SECRET, makeKeyPair } from '../test/helpers.js';
import { AUTH_ERROR_HTTP_STATUS, AuthConfigError, AuthError } from './errors.js';
import { createTokenVerifier, type VerifierConfig } from './verify.js';

const rsa = makeKeyPair('RS256');
const JWKS = 'https://idp.example/.well-known/jwks.json';

function configError(config: VerifierConfig): AuthConfigError {
  try {
    createTokenVerifier(config);
  } catch (err) {
    expect(err).toBeInstanceOf(AuthConfigError);
    expect((err as AuthConfigError).code).toBe('config_invalid');
    return err as AuthConfigError;
  }
  throw new Error('expected an AuthConfigError');
}

describe('createTokenVerifier configuration', () => {
  it('builds from each single key source', () => {
    expect(createTokenVerifier({ hmacSecret: SECRET })).toBeDefined();
    expect(createTokenVerifier({ publicKey: rsa.pem })).toBeDefined();
    expect(createTokenVerifier({ jwksUrl: JWKS })).toBeDefined();
  });

  it('requires exactly one key source', () => {
    expect(configError({}).message).toMatch(/one of/);
    configError({ hmacSecret: SECRET, publicKey: rsa.pem });
    configError({ hmacSecret: SECRET, jwksUrl: JWKS });
    configError({ publicKey: rsa.pem, jwksUrl: JWKS });
  });

  it('refuses "none" in the allow-list with a TypeError, whatever the key', () => {
    for (const alg of ['none', 'NONE', 'None']) {
      expect(() => createTokenVerifier({ hmacSecret: SECRET, algorithms: ['HS256', alg] })).toThrow(TypeError);
      expect(() => createTokenVerifier({ publicKey: rsa.pem, algorithms: [alg] })).toThrow(TypeError);
    }
  });

  it('refuses HMAC algorithms for a public key or JWKS (algorithm confusion)', () => {
    configError({ publicKey: rsa.pem, algorithms: ['RS256', 'HS256'] });
    configError({ jwksUrl: JWKS, algorithms: ['HS512'] });
  });

  it('refuses asymmetric algorithms with an HMAC secret', () => {
    configError({ hmacSecret: SECRET, algorithms: ['HS256', 'RS256'] });
  });

  it('refuses unknown, empty or unusable allow-lists', () => {
    configError({ hmacSecret: SECRET, algorithms: ['HS257'] });
    configError({ hmacSecret: SECRET, algorithms: [] });
    configError({ publicKey: rsa.pem, algorithms: ['ES256'] }); // an RSA key cannot do ES256
  });

  it('refuses unusable secrets and public keys', () => {
    configError({ hmacSecret: '' });
    configError({ publicKey: '' });
    configError({ publicKey: 'not a key' });
    configError({ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' });
    configError({ publicKey: '{not json' });
    configError({ publicKey: '[1]' });
    const priv = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    configError({ publicKey: priv });
    configError({ publicKey: JSON.stringify(rsa.privateKey.export({ format: 'jwk' })) });
  });

  it('refuses a symmetric (oct) JWK as a public key', () => {
    configError({ publicKey: JSON.stringify({ kty: 'oct', k: Buffer.from(SECRET).toString('base64url') }) });
  });

  it('refuses JWKs restricted to other uses or algorithms', () => {
    configError({ publicKey: JSON.stringify({ ...rsa.jwk, use: 'enc' }) });
    configError({ publicKey: JSON.stringify({ ...rsa.jwk, key_ops: ['encrypt'] }) });
    configError({ publicKey: JSON.stringify({ ...rsa.jwk, alg: 'ES256' }) });
  });

  it('refuses RSA keys under 2048 bits and unsupported curves', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(configError({ publicKey: small }).message).toMatch(/2048/);
    const k256 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    configError({ publicKey: k256 });
  });

  it('refuses bad JWKS URLs and durations', () => {
    configError({ jwksUrl: 'not a url' });
    configError({ jwksUrl: 'file:///etc/jwks.json' });
    configError({ jwksUrl: JWKS, jwksCooldownMs: -1 });
    configError({ jwksUrl: JWKS, jwksCacheMaxAgeMs: 0 });
    configError({ jwksUrl: JWKS, jwksTimeoutMs: 1.5 });
  });

  it('refuses bad claim options', () => {
    configError({ hmacSecret: SECRET, audience: '' });
    configError({ hmacSecret: SECRET, issuer: '' });
    configError({ hmacSecret: SECRET, clockToleranceSec: -1 });
    configError({ hmacSecret: SECRET, clockToleranceSec: Number.NaN });
    configError({ hmacSecret: SECRET, maxTokenChars: 0 });
  });
});

describe('errors', () => {
  it('AuthError carries code, name and cause', () => {
    const cause = new Error('inner');
    const e = new AuthError('token_expired', 'token expired', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AuthError');
    expect(e.code).toBe('token_expired');
    expect(e.cause).toBe(cause);
  });

  it('maps every code to 401 except key_unavailable (503)', () => {
    expect(AUTH_ERROR_HTTP_STATUS).toEqual({
      token_missing: 401, token_invalid: 401, token_expired: 401, alg_not_allowed: 401, claims_invalid: 401, key_unavailable: 503,
    });
  });
});
