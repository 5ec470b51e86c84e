/**
 * @herald/publish-api: the HTTP publish service (docs/publish-api.md), as routes to mount on a
 * shared uWS app, a standalone server, or a whole process.
 * @module
 */
export { publishApiConfigSchema, MIN_API_KEY_CHARS, MAX_DATA_BYTES_CEILING } from './config.js';
export type { PublishApiConfig } from './config.js';
export { createPublishApi } from './publish-api.js';
export type { PublishApi, PublishApiDeps } from './publish-api.js';
export { startPublishApi } from './server.js';
export type { RunningPublishApi } from './server.js';
export { runPublishApi } from './run.js';
export type { PublishApiProcess } from './run.js';
export { createApiKeyCheck } from './http/api-keys.js';
export type { ApiKeyCheck } from './http/api-keys.js';
export type { ChannelResult } from './publish/routes.js';
export type { HistoryEntry } from './admin/routes.js';
