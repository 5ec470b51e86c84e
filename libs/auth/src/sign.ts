/** Token signing with an HMAC secret, for the `herald token` CLI and for tests. */
import { isValidUserId } from '@herald/protocol';
import { SignJWT } from 'jose';
import { isValidTopicPattern } from './topic-patterns.js';

/** Default lifetime of a signed token, in seconds (1 hour). */
export const DEFAULT_TOKEN_TTL_SEC = 3600;

/** What {@link signToken} puts in a token. */
export interface SignTokenOptions {
  /** HMAC secret, used as its UTF-8 bytes (the same string the verifier's `hmacSecret` holds). */
  secret: string;
  /** The user id; must be valid per PROTOCOL. */
  sub: string;
  /** Topic patterns for the `topics` claim; each must be valid. Omitted: no claim (allows nothing). */
  topics?: readonly string[];
  /** Lifetime in seconds, a positive integer. Default {@link DEFAULT_TOKEN_TTL_SEC}. */
  ttlSec?: number;
  /** Default HS256. */
  alg?: 'HS256' | 'HS384' | 'HS512';
  audience?: string;
  issuer?: string;
  /** Additional claims. `sub`, `iat`, `exp`, `aud`, `iss` and `topics` from the options above take precedence. */
  extra?: Record<string, unknown>;
}

/**
 * Signs a JWT with `sub`, `iat`, `exp` and, when given, `topics`, `aud`, `iss`.
 * @throws TypeError on an empty secret, an invalid `sub`, an invalid topic pattern or a bad `ttlSec`.
 * @example await signToken({ secret, sub: '42', topics: ['news', 'orders.>'], ttlSec: parseDuration('1h') })
 */
export async function signToken(opts: SignTokenOptions): Promise<string> {
  const { secret, sub, topics, ttlSec = DEFAULT_TOKEN_TTL_SEC, alg = 'HS256' } = opts;
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('secret must be a non-empty string');
  if (!isValidUserId(sub)) throw new TypeError('sub must be a valid user id (1..256 UTF-8 bytes, no control characters)');
  if (!Number.isSafeInteger(ttlSec) || ttlSec <= 0) throw new TypeError('ttlSec must be a positive integer');
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') throw new TypeError('alg must be HS256, HS384 or HS512');
  const claims: Record<string, unknown> = { ...opts.extra };
  if (topics !== undefined) {
    const bad = topics.find((t) => !isValidTopicPattern(t));
    if (bad !== undefined) throw new TypeError(`invalid topic pattern ${JSON.stringify(bad)}`);
    claims['topics'] = [...topics];
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSec);
  if (opts.audience !== undefined) jwt.setAudience(opts.audience);
  if (opts.issuer !== undefined) jwt.setIssuer(opts.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
