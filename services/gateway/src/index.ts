/**
 * @herald/gateway: the edge node holding WebSocket connections and SSE streams (PROTOCOL §1–6).
 * @module
 */
export { gatewayConfigSchema, verifierConfigOf } from './config.js';
export type { GatewayConfig } from './config.js';
export { createGateway, SSE_PATH, WS_PATH } from './gateway.js';
export type { Gateway, GatewayDeps } from './gateway.js';
export { startGatewayServer, runGateway } from './server.js';
export type { GatewayServer } from './server.js';
