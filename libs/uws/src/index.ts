/**
 * @herald/uws: the native uWebSockets.js loader, local type fixes and HTTP helpers.
 * @module
 */
export { loadUws, loadedUws, pickUws, isNativeUws, glibcVersion, unsupportedPlatformMessage, UwsUnavailableError, UWS_BUILDS, MAX_REQUEST_HEAD_BYTES } from './load.js';
export type { UwsModule, UwsBuild, LoadedUws } from './load.js';
export { asApp, toUwsBehavior, LISTEN_EXCLUSIVE_PORT } from './types.js';
export type { App, Behavior, TemplatedApp, WebSocketBehavior, HttpResponse, HttpRequest, WebSocket, us_listen_socket, us_socket_context_t } from './types.js';
export { statusLine, guardResponse, writeJson, writeError, readBody, BodyTooLargeError, ListenError, copyHeaders, remoteAddress, listen, normalizeOrigin, originAllowList } from './http.js';
export type { ResponseGuard, HeaderList, Listening } from './http.js';
export { corsVerdict, CORS_PREFLIGHT_MAX_AGE_S } from './cors.js';
export type { CorsPolicy, CorsVerdict } from './cors.js';
export { mountOpsRoutes } from './ops.js';
export type { Readiness, OpsRoutes } from './ops.js';
export { guardApp } from './guard.js';
export type { HandlerErrorReporter } from './guard.js';
