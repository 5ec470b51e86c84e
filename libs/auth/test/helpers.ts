/** Test-only helpers for @herald/auth: key pairs, signing, hand-crafted tokens. Not part of the package. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { AuthError, AuthErrorCode } from '../src/index.js';

/** A long enough HMAC secret for every HS algorithm. */
export const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789-ABCDEFGHIJ';

/** Seconds since the epoch. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

export type TestKeyAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

/** A fresh asymmetric key pair for `alg`, with the public half as PEM and as JWK JSON. */
export interface TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly pem: string;
  readonly jwk: Record<string, unknown>;
}

export function makeKeyPair(alg: TestKeyAlg): TestKeyPair {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const jwk = { ...publicKey.export({ format: 'jwk' }) } as Record<string, unknown>;
  return { privateKey, publicKey, pem, jwk };
}

/** Signs `claims` (defaults: sub 'u1', exp in 1 hour) with `key` under `alg`; `header` adds e.g. a `kid`. */
export async function sign(
  key: KeyObject | Uint8Array,
  alg: string,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ sub: 'u1', exp: nowSec() + 3600, ...claims }).setProtectedHeader({ ...header, alg }).sign(key);
}

/** The secret as bytes, as the verifier uses it. */
export function secretBytes(secret: string = SECRET): Uint8Array {
  return new TextEncoder().encode(secret);
}

export function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned (`alg: none`) token, built by hand as an attacker would. */
export function unsignedToken(payload: JWTPayload, alg = 'none'): string {
  return `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.`;
}

/** Awaits a rejection and returns it as an AuthError, asserting its code and that the token is not in the message. */
export async function rejection(p: Promise<unknown>, token?: string): Promise<{ code: AuthErrorCode; error: AuthError }> {
  try {
    await p;
  } catch (err) {
    const error = err as AuthError;
    if (token !== undefined && token.length > 0 && error.message.includes(token)) throw new Error('message leaks the token');
    return { code: error.code, error };
  }
  throw new Error('expected a rejection');
}

/** A self-signed X.509 certificate (P-256, CN=herald-auth-test, valid to 2126) and its private key. Test-only. */
export const X509_CERT = `
-----BEGIN CERTIFICATE-----
MIIBjDCCATOgAwIBAgIUa2h623XgmKEBS9D9ad/cjr99eJowCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQaGVyYWxkLWF1dGgtdGVzdDAgFw0yNjExMjExNTUwMjJaGA8y
MTI2MTAyODE1NTAyMlowGzEZMBcGA1UEAwwQaGVyYWxkLWF1dGgtdGVzdDBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABMINCLsLfuD9ClzfbR9LGT6SBLBYPqkEAeQ4
x6KubieIJjhXeBFNMIbhkN/Z18jRfgdMyJIE6kjd5U6fUpmA3jijUzBRMB0GA1Ud
DgQWBBRM3wfI5wU3IRbgCGkuZgxYEdtruTAfBgNVHSMEGDAWgBRM3wfI5wU3IRbg
CGkuZgxYEdtruTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIG8z
ZXLxYjn2aBMxkm3NuA+z/60nWIaBv/klRvBu7SCtAiBfX2JIhFYNyOKyssqqlOPl
8HO5M/wnG5LMtSwulR7MVA==
-----END CERTIFICATE-----
`;
export const X509_PRIVATE_KEY = `
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWCGQIIemZAwTS1iT
ACght5I6GJsJwRtv2xD9DBNKENahRANCAATCDQi7C37g/Qpc320fSxk+kgSwWD6p
BAHkOMeirm4niCY4V3gRTTCG4ZDf2dfI0X4HTMiSBOpI3eVOn1KZgN44
-----END PRIVATE KEY-----
`;
