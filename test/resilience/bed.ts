/**
 * The resilience test bed: a 3-node nats-server cluster (stream replicas 3), 3 gateway
 * processes and 2 publish-API processes (`herald gateway|publish-api`), a TCP
 * load balancer in the test that spreads client connections over the live gateways,
 * steady publishers through both publish APIs (a 503 is retried with the same id and
 * never counted as published), and SDK clients in Node that record every message per
 * channel.
 * @module
 */
export * from './bed/tokens.js';
export * from './bed/load-balancer.js';
export * from './bed/processes.js';
export * from './bed/publishers.js';
export * from './bed/clients.js';
export * from './bed/crowd.js';
export * from './bed/system.js';
