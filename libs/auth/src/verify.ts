/** Token verification: the jose wrapper with the alg allow-list, claim checks and the one jose→AuthError mapping. */
import { MAX_TOKEN_CHARS, isValidUserId } from '@herald/protocol';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { resolveAllowedAlgorithms } from './algorithms.js';
import { AuthConfigError, AuthError } from './errors.js';
import { createKeySource, type KeySourceConfig } from './keys.js';
import { verifyHmacClaims, type HmacRules } from './verify-hmac.js';
import { MAX_TOPIC_PATTERNS, compileTopicPatterns, type TopicMatcher } from './topic-patterns.js';

/** Default leeway for `exp`, `nbf` and `iat`, in seconds: absorbs clock skew between issuer and gateway. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 5;
/** Default maximum token length in characters (PROTOCOL's limit); longer tokens are refused unparsed. */
export const DEFAULT_MAX_TOKEN_CHARS = MAX_TOKEN_CHARS;

/** How tokens are verified: one key source (see {@link KeySourceConfig}) plus claim rules. */
export interface VerifierConfig extends KeySourceConfig {
  /**
   * Explicit allow-list. Default: HS256/384/512 for a secret; for a public key or JWKS, RS256..512,
   * PS256..512, ES256/384/512 and EdDSA (narrowed to what a single public key can do).
   * `none` is never allowed (TypeError); HMAC algorithms with a public key, or the reverse, are a config error.
   */
  algorithms?: readonly string[];
  /** Required `aud` (checked only when set). */
  audience?: string;
  /** Required `iss` (checked only when set). */
  issuer?: string;
  /** Refuse tokens without `exp`. Default true. */
  requireExp?: boolean;
  /** Leeway for time claims, in seconds. Default {@link DEFAULT_CLOCK_TOLERANCE_SEC}; 0 means none. */
  clockToleranceSec?: number;
  /** Longer tokens are refused without parsing. Default {@link DEFAULT_MAX_TOKEN_CHARS}. */
  maxTokenChars?: number;
}

/** What a valid token grants. */
export interface VerifiedToken {
  /** The user id (`sub`), valid per PROTOCOL (1..256 UTF-8 bytes, no control characters). */
  readonly sub: string;
  /** Expiry, in seconds since the epoch, when the token has one. */
  readonly exp?: number;
  /** Issued-at, in seconds since the epoch, when the token has one. */
  readonly iat?: number;
  /** The topics the token allows (its `topics` claim); allows nothing when the claim is absent. */
  readonly topics: TopicMatcher;
  /**
   * Topics whose member list (presence members, docs/events.md#presence-members) the token may
   * read: its `presence` claim, topic patterns like `topics`; absent when the claim is absent.
   */
  readonly presence?: TopicMatcher;
  /** The connection's presence `info` (its `info` claim): a JSON object of at most {@link MAX_INFO_BYTES} bytes. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** Largest `info` claim, in bytes of its JSON text (it travels in every member list and join). */
export const MAX_INFO_BYTES = 256;

/** Verifies bearer tokens. Safe to share: holds no per-token state. */
export interface TokenVerifier {
  /** Resolves with the granted identity, or rejects with an {@link AuthError}. */
  verify(token: string): Promise<VerifiedToken>;
  /**
   * Present only when the key source is an HMAC secret: the same verification without
   * awaiting (node:crypto instead of WebCrypto), for callers that must answer within a
   * synchronous callback. Accepts exactly what `verify` accepts; throws the same
   * {@link AuthError} codes.
   */
  verifySync?: (token: string) => VerifiedToken;
}

/**
 * Builds a verifier. Keys are imported and the allow-list is fixed here, once.
 * @throws AuthConfigError (`config_invalid`) on a bad config; TypeError when `none` is listed.
 */
export function createTokenVerifier(config: VerifierConfig): TokenVerifier {
  const source = createKeySource(config);
  const algorithms = resolveAllowedAlgorithms(source.kind === 'hmac', source.algorithms, config.algorithms);
  const options: JWTVerifyOptions = {
    algorithms: [...algorithms],
    clockTolerance: nonNegative('clockToleranceSec', config.clockToleranceSec, DEFAULT_CLOCK_TOLERANCE_SEC),
    requiredClaims: config.requireExp === false ? ['sub'] : ['exp', 'sub'],
  };
  if (config.audience !== undefined) options.audience = nonEmpty('audience', config.audience);
  if (config.issuer !== undefined) options.issuer = nonEmpty('issuer', config.issuer);
  const maxTokenChars = config.maxTokenChars ?? DEFAULT_MAX_TOKEN_CHARS;
  if (!Number.isSafeInteger(maxTokenChars) || maxTokenChars < 1) throw new AuthConfigError('maxTokenChars must be a positive integer');
  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await source.getKey(header, token);
    } catch (err) {
      throw new KeyLookupFailure(err);
    }
  };

  const verifier: { verify: TokenVerifier['verify']; verifySync?: (token: string) => VerifiedToken } = {
    async verify(token: string): Promise<VerifiedToken> {
      checkLength(token, maxTokenChars);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, options));
      } catch (err) {
        throw toAuthError(err);
      }
      return toVerifiedToken(payload);
    },
  };
  if (source.hmacKey !== undefined) {
    const rules: HmacRules = {
      key: source.hmacKey,
      algorithms: new Set(algorithms),
      clockTolerance: options.clockTolerance as number,
      requiredClaims: options.requiredClaims ?? [],
      audience: config.audience,
      issuer: config.issuer,
    };
    verifier.verifySync = (token: string): VerifiedToken => {
      checkLength(token, maxTokenChars);
      return toVerifiedToken(verifyHmacClaims(token, rules));
    };
  }
  return verifier;
}

/** Checks shared by both paths, before any parsing. */
function checkLength(token: string, maxTokenChars: number): void {
  if (typeof token !== 'string' || token.length === 0) throw new AuthError('token_missing', 'token missing');
  if (token.length > maxTokenChars) throw new AuthError('token_invalid', 'token too long');
}

/** Claims → VerifiedToken, after the signature and the registered claims were checked (both paths). */
function toVerifiedToken(payload: JWTPayload | Record<string, unknown>): VerifiedToken {
  if (!isValidUserId(payload.sub)) throw new AuthError('claims_invalid', '"sub" claim is not a valid user id');
  const claim = payload['topics'];
  if (claim !== undefined && !Array.isArray(claim)) throw new AuthError('claims_invalid', '"topics" claim must be an array');
  // Bounded read: a huge claim costs no more than 100 patterns. Non-strings are dropped like invalid patterns.
  const patterns = (claim ?? []).slice(0, MAX_TOPIC_PATTERNS).filter((p): p is string => typeof p === 'string');
  const token: { sub: string; exp?: number; iat?: number; topics: TopicMatcher } = {
    sub: payload.sub,
    topics: compileTopicPatterns(patterns),
  };
  if (typeof payload.exp === 'number') token.exp = payload.exp;
  if (typeof payload.iat === 'number') token.iat = payload.iat;
  const presence = payload['presence'];
  if (presence !== undefined && !Array.isArray(presence)) throw new AuthError('claims_invalid', '"presence" claim must be an array');
  const info = payload['info'];
  if (info !== undefined && (typeof info !== 'object' || info === null || Array.isArray(info) || Buffer.byteLength(JSON.stringify(info), 'utf8') > MAX_INFO_BYTES)) {
    throw new AuthError('claims_invalid', `"info" claim must be a JSON object of at most ${MAX_INFO_BYTES} bytes`);
  }
  return Object.freeze({
    ...token,
    ...(presence === undefined ? {} : { presence: compileTopicPatterns(presence.slice(0, MAX_TOPIC_PATTERNS).filter((p): p is string => typeof p === 'string')) }),
    ...(info === undefined ? {} : { info: info as Record<string, unknown> }),
  });
}

/** Marks an error thrown while resolving the key (JWKS fetch or lookup), as opposed to while checking the token. */
class KeyLookupFailure extends Error {
  constructor(cause: unknown) {
    super('key lookup failed', { cause });
    this.name = 'KeyLookupFailure';
  }
}

/** The only place jose errors become AuthErrors. The jose error is kept as `cause`; messages are constant. */
function toAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof KeyLookupFailure) {
    const cause = err.cause;
    if (cause instanceof errors.JWKSNoMatchingKey || cause instanceof errors.JWKSMultipleMatchingKeys) {
      return new AuthError('token_invalid', 'no matching verification key', { cause });
    }
    return new AuthError('key_unavailable', 'verification keys unavailable', { cause });
  }
  if (err instanceof errors.JWTExpired) return new AuthError('token_expired', 'token expired', { cause: err });
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError('alg_not_allowed', 'algorithm not allowed', { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) {
    // `claim` is a fixed claim name chosen by jose (aud, iss, nbf, exp, sub…), never token content.
    return new AuthError('claims_invalid', `"${err.claim}" claim invalid`, { cause: err });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('token_invalid', 'signature verification failed', { cause: err });
  }
  // JWSInvalid, JWTInvalid, JOSENotSupported, key-type TypeErrors: all a malformed or unusable token.
  return new AuthError('token_invalid', 'token malformed', { cause: err });
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new AuthConfigError(`${name} must be a number >= 0`);
  return value;
}

function nonEmpty(name: string, value: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new AuthConfigError(`${name} must be a non-empty string`);
  return value;
}
