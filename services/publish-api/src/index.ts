/**
 * @herald/publish-api: the HTTP publish service (docs/publish-api.md), as routes to mount on a
 * shared uWS app, a standalone server, or a whole process.
 * @module
 */
export { publishApiConfigSchema, MIN_API_KEY_CHARS, MAX_DATA_BYTES_CEILING } from './config.js';
export type { PublishApiConfig } from './config.js';
export { createPublishApi, startPublishApi } from './publish-api.js';
export type { PublishApi, PublishApiDeps, RunningPublishApi } from './publish-api.js';
export { runPublishApi } from './run.js';
export type { PublishApiProcess } from './run.js';
export { createApiKeyCheck } from './api-keys.js';
export type { ApiKeyCheck } from './api-keys.js';
export type { ChannelResult } from './handlers/publish.js';
export type { HistoryEntry } from './handlers/admin.js';
