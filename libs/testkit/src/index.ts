/**
 * @herald/testkit: real parts for tests (nats-server processes, service processes, WebSocket clients).
 * @module
 */
export { freePort, waitForPort } from './ports.js';
export { startNatsServer, startNatsCluster, NATS_SERVER_BIN } from './nats-server.js';
export type { NatsServerHandle, NatsClusterHandle, NatsServerOptions } from './nats-server.js';
export { WsTestClient, openWs, connectWs, refusedWs } from './ws-client.js';
export type { WsClientOptions, Refusal, CloseInfo } from './ws-client.js';
export { spawnService, runNode } from './process.js';
export type { ServiceProcess, SpawnOptions } from './process.js';
export { waitFor } from './wait.js';
export { httpStatus } from './http.js';
export { startPushService, generateUaKeys, decryptAes128gcm, verifyVapid, type PushServiceHandle, type TestPushSubscription, type ReceivedPush, type PushRequestRecord, type ForcedAnswer, type UaKeys, type VapidClaims } from './push-service.js';
export { startWebhookReceiver, verifyWebhookSignature, type WebhookReceiver, type WebhookReceiverOptions, type ReceivedWebhook } from './webhook-receiver.js';
export { startLaggingReplica, type LaggingReplica } from './lagging-replica.js';
