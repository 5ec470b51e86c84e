/**
 * Synchronous HS256/384/512 verification with node:crypto, for callers that cannot await
 * (the gateway's uWS upgrade handler). It mirrors jose's `jwtVerify` as configured in
 * verify.ts step by step (jose 6, lib/jws_verify.js and lib/jwt_claims_set.js): the same
 * tokens are accepted and every refusal carries the same AuthError code. verify.test.ts
 * runs every case through both paths and compares the outcomes.
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AuthError } from './errors.js';

/** The checks jose is configured with in verify.ts, resolved once per verifier. */
export interface HmacRules {
  readonly key: KeyObject;
  /** The allow-list (HMAC algorithms only: a secret never verifies anything else). */
  readonly algorithms: ReadonlySet<string>;
  /** Seconds of leeway for `exp` and `nbf`. */
  readonly clockTolerance: number;
  /** Claims that must be present (`exp` unless requireExp is false, and `sub`). */
  readonly requiredClaims: readonly string[];
  readonly audience: string | undefined;
  readonly issuer: string | undefined;
}

const HASHES: Readonly<Record<string, string>> = Object.freeze({ HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' });

/** jose's strict decoder: invalid UTF-8 is an error (a leading BOM is dropped, as TextDecoder does by default). */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\x00-\x7f]/;

type FromBase64 = (input: string, options: { alphabet: 'base64url' }) => Uint8Array;
const fromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/** jose's base64url decoding (lib/buffer_utils.js): `Uint8Array.fromBase64` where the runtime has it, else atob. */
function decodeBase64url(input: string): Uint8Array {
  if (fromBase64 !== undefined) return fromBase64(input, { alphabet: 'base64url' });
  if (input.includes('+') || input.includes('/')) throw new TypeError('Invalid base64url');
  return Buffer.from(atob(input.replace(/-/g, '+').replace(/_/g, '/')), 'latin1');
}

/** jose's isObject: a plain object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.prototype.toString.call(value) !== '[object Object]') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** A malformed or unusable token; the cause names the failed step (never token content). */
function malformed(step: string): AuthError {
  return new AuthError('token_invalid', 'token malformed', { cause: new Error(step) });
}

function claimInvalid(claim: string, why: string): AuthError {
  return new AuthError('claims_invalid', `"${claim}" claim invalid`, { cause: new Error(why) });
}

function decodeJsonObject(segment: string, step: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictDecoder.decode(decodeBase64url(segment)));
  } catch {
    throw malformed(step);
  }
  if (!isObject(parsed)) throw malformed(step);
  return parsed;
}

/**
 * `crit` as jose handles it: absent is fine; otherwise a non-empty array of non-empty
 * strings naming only `b64` (the one extension jose understands), with `b64` a boolean
 * in the header. Returns `b64` (true unless the header says otherwise).
 */
function b64OfCrit(header: Record<string, unknown>): boolean {
  const crit = header['crit'];
  if (crit === undefined) return true;
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string' || c.length === 0)) {
    throw malformed('"crit" header invalid');
  }
  for (const parameter of crit) {
    if (parameter !== 'b64') throw malformed('"crit" names an unsupported extension');
    if (!Object.hasOwn(header, 'b64') || header['b64'] === undefined) throw malformed('"crit" extension missing');
  }
  const b64 = header['b64'];
  if (typeof b64 !== 'boolean') throw malformed('"b64" header invalid');
  return b64;
}

function numericClaim(claims: Record<string, unknown>, claim: string): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw claimInvalid(claim, `"${claim}" claim must be a number`);
  return value;
}

/**
 * Verifies a compact JWS signed with HS256/384/512 and checks its registered claims.
 * Returns the claims set; the caller maps it to a VerifiedToken (verify.ts, shared with jose's path).
 * @throws AuthError (token_invalid, alg_not_allowed, token_expired, claims_invalid)
 */
export function verifyHmacClaims(token: string, rules: HmacRules): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('invalid compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h, 'protected header invalid');
  const b64 = b64OfCrit(header);
  const alg = header['alg'];
  if (typeof alg !== 'string' || alg.length === 0) throw malformed('"alg" header missing or invalid');
  if (!rules.algorithms.has(alg)) {
    throw new AuthError('alg_not_allowed', 'algorithm not allowed', { cause: new Error('"alg" header value not allowed') });
  }
  const hash = HASHES[alg];
  if (hash === undefined) throw malformed('no HMAC key for this algorithm'); // unreachable behind the allow-list
  if (!b64) throw malformed('JWTs must not use an unencoded payload');
  if (NON_ASCII.test(p)) throw malformed('payload is not ASCII');
  let signature: Uint8Array;
  try {
    signature = decodeBase64url(s);
  } catch {
    throw malformed('signature is not base64url');
  }
  // `h` decoded as base64url, so it is ASCII too: the signing input is the segments' bytes.
  const mac = createHmac(hash, rules.key).update(`${h}.${p}`, 'latin1').digest();
  if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) {
    throw new AuthError('token_invalid', 'signature verification failed', { cause: new Error('HMAC mismatch') });
  }
  const claims = decodeJsonObject(p, 'claims set is not a JSON object');
  checkClaims(claims, rules);
  return claims;
}

/** jose's validateClaimsSet with the options verify.ts passes (no typ, subject or maxTokenAge). */
function checkClaims(claims: Record<string, unknown>, rules: HmacRules): void {
  const presence = [...rules.requiredClaims];
  if (rules.audience !== undefined) presence.push('aud');
  if (rules.issuer !== undefined) presence.push('iss');
  for (const claim of new Set(presence.reverse())) {
    if (!Object.hasOwn(claims, claim)) throw claimInvalid(claim, `missing required "${claim}" claim`);
  }
  if (rules.issuer !== undefined && claims['iss'] !== rules.issuer) throw claimInvalid('iss', 'unexpected "iss" claim value');
  if (rules.audience !== undefined) {
    const aud = claims['aud'];
    const present = typeof aud === 'string' ? aud === rules.audience : Array.isArray(aud) ? aud.includes(rules.audience) : false;
    if (!present) throw claimInvalid('aud', 'unexpected "aud" claim value');
  }
  const now = Math.floor(Date.now() / 1000);
  const tolerance = rules.clockTolerance;
  numericClaim(claims, 'iat');
  const nbf = numericClaim(claims, 'nbf');
  if (nbf !== undefined && nbf > now + tolerance) throw claimInvalid('nbf', '"nbf" claim timestamp check failed');
  const exp = numericClaim(claims, 'exp');
  if (exp !== undefined && exp <= now - tolerance) {
    throw new AuthError('token_expired', 'token expired', { cause: new Error('"exp" claim timestamp check failed') });
  }
}
