/**
 * @herald/config: one validated, frozen configuration per service, from `HERALD_*` variables.
 * @module
 */
export { loadConfig, ConfigError, ENV_PREFIX } from './load.js';
export { csv, booleanFlag, port, int, logConfig, nodeConfig, natsConfig, historyConfig, jwtConfig } from './fragments.js';
