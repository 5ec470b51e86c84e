/**
 * @herald/config: one validated, frozen configuration per service, from `HERALD_*` variables.
 * @module
 */
export { loadConfig, ConfigError, ENV_PREFIX } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { KNOWN_VARIABLES, unknownVariables, warnUnknownVariables, describeUnknownVariable, closestKnown } from './known.js';
export type { UnknownVariable } from './known.js';
export { redactConfig, isSecretKey } from './redact.js';
export { busChoiceIssues } from './bus-choice.js';
export type { Role } from './bus-choice.js';
export { csv, booleanFlag, port, int, logConfig, nodeConfig, natsConfig, historyConfig, jwtConfig, tracingConfig } from './fragments.js';
