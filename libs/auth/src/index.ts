/**
 * @herald/auth: JWT verification (HMAC, public keys, JWKS), topic patterns, and token signing for the CLI.
 * @module
 */
export { AuthError, AuthConfigError, AUTH_ERROR_HTTP_STATUS } from './errors.js';
export type { AuthErrorCode } from './errors.js';
export { HMAC_ALGORITHMS, ASYMMETRIC_ALGORITHMS } from './algorithms.js';
export type { HmacAlgorithm, AsymmetricAlgorithm } from './algorithms.js';
export { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_CACHE_MAX_AGE_MS, DEFAULT_JWKS_TIMEOUT_MS } from './keys.js';
export type { KeySourceConfig } from './keys.js';
export { createTokenVerifier, DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_MAX_TOKEN_CHARS, MAX_INFO_BYTES } from './verify.js';
export type { VerifierConfig, VerifiedToken, TokenVerifier } from './verify.js';
export { compileTopicPatterns, isValidTopicPattern, MAX_TOPIC_PATTERNS } from './topic-patterns.js';
export type { TopicMatcher } from './topic-patterns.js';
export { signToken, DEFAULT_TOKEN_TTL_SEC } from './sign.js';
export type { SignTokenOptions } from './sign.js';
export { parseDuration } from './duration.js';
