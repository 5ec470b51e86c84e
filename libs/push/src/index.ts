/**
 * @herald/push: Web Push for users who are not connected. RFC 8030 delivery, RFC 8291
 * payload encryption and RFC 8292 VAPID through the `web-push` library; per-user subscription
 * stores (memory, JetStream KV); one push per message across replicas via KV claims.
 * @module
 */
export { PushError } from './errors.js';
export type { PushErrorCode } from './errors.js';
export { pushConfig, pushEnabled, subscriptionRulesOf } from './config.js';
export type { PushConfig } from './config.js';
export { generateVapidKeys, vapidProblem, assertVapid, VAPID_SUBJECT_PATTERN } from './vapid.js';
export type { VapidKeys, VapidDetails } from './vapid.js';
export { checkSubscription, subscriptionId, MAX_ENDPOINT_LENGTH, P256DH_BYTES, AUTH_SECRET_BYTES } from './subscription.js';
export type { PushSubscription, PushSubscriptionInput, SubscriptionRules, SubscriptionCheck } from './subscription.js';
export { DEFAULT_MAX_SUBSCRIPTIONS } from './store.js';
export type { SubscriptionStore, AddResult } from './store.js';
export { MemorySubscriptionStore } from './memory-store.js';
export type { MemorySubscriptionStoreOptions } from './memory-store.js';
export { KvSubscriptionStore } from './kv-store.js';
export { KvPushClaims, MemoryPushClaims } from './claims.js';
export type { PushClaims, ClaimResult, ClaimToken, ClaimState } from './claims.js';
export { pushNames } from './names.js';
export type { PushNames } from './names.js';
export { openKvPush } from './open-kv.js';
export type { OpenKvPushOptions, KvPush } from './open-kv.js';
export { MAX_PAYLOAD_BYTES, MAX_TTL_SECONDS, TOPIC_PATTERN, URGENCIES, topicForMessage, assertOptions } from './options.js';
export type { PushOptions, Urgency } from './options.js';
export { DEFAULT_RETRY, parseRetryAfter } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { PushRateLimiter } from './rate-limit.js';
export type { RateLimiterOptions, RateLimit } from './rate-limit.js';
export { KvPushRateLimiter } from './kv-rate-limit.js';
export { PushSender } from './sender.js';
export type { PushSenderOptions, SendResult } from './sender.js';
export { PushDispatcher, DEFAULT_LEASE_MS } from './dispatcher.js';
export type { PushDispatcherOptions, PushMessage, DispatchOutcome } from './dispatcher.js';
export { PushTimerCore, JetStreamPushTimer, MemoryPushTimer, timerConsumerConfig, kvOnlineProbe } from './timer.js';
export type {
  TimedMessage, PushTimerHooks, Dispatch, TimerResult, Decision, PushTimerOptions, TimerStats, JetStreamPushTimerOptions, MemoryPushTimerOptions, TimerDelivery,
} from './timer.js';
