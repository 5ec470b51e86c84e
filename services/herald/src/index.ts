/**
 * The `herald` command's reusable parts (the entry point is cli.ts).
 * @module
 */
export { runDev } from './commands/dev.js';
export { loadOrCreateDevCredentials, readDevCredentials, DEV_CREDENTIALS_FILE } from './dev-credentials.js';
export type { DevCredentials } from './dev-credentials.js';
