/**
 * @herald/events: lifecycle events (user.online/offline, topic.occupied/vacated, connection.*),
 * one per transition for the whole cluster, published to the events stream and to signed webhooks.
 * @module
 */
export { EVENT_TYPES, eventId, makeEvent, parseEvent, isEventType, eventTimeMs } from './event.js';
export type { EventType, EventDataMap, HeraldEvent, AnyEvent } from './event.js';
export { eventNames, prefixToken, orderingKey } from './names.js';
export type { EventNames } from './names.js';
export { userKey, topicKey, describeKey } from './keys.js';
export { PresenceTracker } from './tracker.js';
export type { TrackerOptions } from './tracker.js';
export type { PresenceValue } from './presence-state.js';
export type { PresenceStore, EventPublisher, Mutation } from './store.js';
export { KvPresenceStore } from './kv-store.js';
export type { StoreStats } from './kv-store.js';
export { MemoryPresenceStore } from './memory-store.js';
export { MemoryEventHub } from './memory-hub.js';
export type { EventListener } from './memory-hub.js';
export { NatsEventPublisher } from './nats-publisher.js';
export { NodeLiveness, heartbeatKey } from './liveness.js';
export { openNatsPresence, openMemoryPresence, ensureStreams, incarnationOf, DEFAULT_STREAM_OPTIONS } from './open.js';
export type { Presence, MemoryPresence, PresenceOptions, NatsPresenceOptions } from './open.js';
export { parseSecret, signHeaders, signature, verifySignature, SECRET_PREFIX } from './signature.js';
export type { SigningKey, WebhookHeaders } from './signature.js';
export { parseWebhookTargets, MAX_WEBHOOK_TARGETS } from './webhook-target.js';
export type { WebhookTarget } from './webhook-target.js';
export { WebhookSender } from './webhook-sender.js';
export type { Delivery, WebhookSenderOptions } from './webhook-sender.js';
export { webhookMetrics } from './webhook-metrics.js';
export type { WebhookMetrics } from './webhook-metrics.js';
export { startNatsWebhooks, startMemoryWebhooks } from './webhooks.js';
export type { WebhookRunner, WebhookRunOptions } from './webhooks.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { eventsConfig, eventsConfigIssues, webhookSettings, parseSecrets } from './config.js';
export type { EventsConfig } from './config.js';
