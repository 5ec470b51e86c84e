/**
 * @herald/inbox: per-user messages kept until read, with delivered/read receipts and one
 * `message.delivered` / `message.read` event per transition (docs/inbox.md).
 * @module
 */
export { MAX_PAGE, INBOX_STATES, InboxError } from './types.js';
export type {
  InboxStore, InboxMessage, InboxEntry, InboxState, AppendInput, AppendResult, PendingPage, ListOptions, InboxListing,
  ReceiptTarget, ReceiptResult, Transition, InboxChange, InboxListener, InboxErrorCode,
} from './types.js';
export { MemoryInboxStore } from './memory-store.js';
export type { MemoryInboxOptions } from './memory-store.js';
export { NatsInboxStore, inboxStreamConfig, MAX_CAS_ROUNDS, VERIFY_AFTER_MS, HDR_MSG_ID, HDR_TS, HDR_EXP } from './nats-store.js';
export type { NatsInboxOptions } from './nats-store.js';
export { inboxNames, inboxChannel } from './names.js';
export type { InboxNames } from './names.js';
export { receiptEvent, publishTransitions } from './events.js';
export type { ReceiptEvent } from './events.js';
export { applyReceipt, stateOf, checkTarget, receiptRange, mergeReceipts, covers, EMPTY_RECEIPTS, MAX_LOOSE_SEQS } from './receipts.js';
export type { ReceiptValue, ReceiptStatus, HeldRef } from './receipts.js';
export { DEFAULT_INBOX_TTL_MS, DEFAULT_INBOX_MAX, DEFAULT_LIST_LIMIT } from './common.js';
export { inboxConfig } from './config.js';
export type { InboxConfig } from './config.js';
