/**
 * @herald/runtime: one way to run a role (gateway, publish API, `herald dev`) as a process.
 * @module
 */
export { defaultNodeId, runRole, FORCED_EXIT_HEADROOM_MS } from './run-role.js';
export type { RoleBasics, RoleParts, RoleSpec, RunningRole, Served } from './run-role.js';
export { runMain, startupFailureText } from './main.js';
