/**
 * @herald/gateway: the edge node holding WebSocket connections and SSE streams (docs/protocol.md).
 * @module
 */
export { gatewayConfigSchema, verifierConfigOf } from './config.js';
export type { GatewayConfig } from './config.js';
export { createGateway, SSE_PATH, WS_PATH } from './gateway.js';
export type { Gateway, GatewayDeps } from './gateway.js';
export { startGatewayServer } from './server.js';
export { runGateway } from './run.js';
export type { GatewayServer } from './server.js';
