/**
 * @herald/server: Herald's publish API from Node, and connection tokens.
 * @module
 */
export { HeraldServer } from './server.js';
export type { HeraldServerOptions } from './server.js';
export { HeraldApiError, HeraldRequestError } from './errors.js';
export type { ApiErrorCode } from './errors.js';
export { mintToken } from './token.js';
export type { MintTokenOptions } from './token.js';
export type { RetryOptions } from './retry.js';
export type { RetryInfo } from './request.js';
export type * from './types.js';
