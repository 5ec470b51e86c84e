/**
 * The inbox store contract (docs/inbox.md#store-api-heraldinbox): what the publish API, the
 * gateway and the push timer use, implemented on JetStream (nats-store.ts) and in memory
 * (memory-store.ts), both checked by one contract suite (test/contract.ts).
 * @module
 */

/** Most messages one read or one receipt's `seqs` may cover. */
export const MAX_PAGE = 1000;

/** A message's state for its user (not per device); it only ever rises. */
export type InboxState = 'pending' | 'delivered' | 'read';

export const INBOX_STATES: readonly InboxState[] = ['pending', 'delivered', 'read'];

/** One stored inbox message. */
export interface InboxMessage {
  readonly user: string;
  /** Inbox seq: strictly increasing per user, not contiguous. */
  readonly seq: number;
  /** The publish `id`, or a generated `m_…`. Unique within the user's inbox. */
  readonly id: string;
  /** When it was stored, ms since the Unix epoch. */
  readonly ts: number;
  /** When it stops being readable, ms; absent: the store's TTL applies. */
  readonly exp?: number;
  /** The publish's `data` as JSON text. */
  readonly data: string;
}

/** A message with its state, as listings give it. */
export interface InboxEntry extends InboxMessage {
  readonly state: InboxState;
}

export interface AppendInput {
  /** JSON text of the data. */
  readonly data: string;
  /** Idempotency key; generated when absent. 1 to 64 visible ASCII characters. */
  readonly id?: string;
  /** Shorter lifetime than the store's TTL, ms (clamped to it). */
  readonly ttlMs?: number;
}

export interface AppendResult {
  readonly seq: number;
  readonly id: string;
  /** The id was already in the user's inbox (or JetStream's duplicate window): nothing stored. */
  readonly duplicate: boolean;
}

export interface PendingPage {
  /** Unread messages with seq > afterSeq, in seq order. */
  readonly messages: readonly InboxEntry[];
  /** More unread messages follow the last one. */
  readonly more: boolean;
}

export interface ListOptions {
  /** Only messages with seq > after (default 0). */
  readonly after?: number;
  /** 1 to {@link MAX_PAGE} (default 100). */
  readonly limit?: number;
  /** Only messages in this state. */
  readonly state?: InboxState;
}

export interface InboxListing {
  /** Every message with seq ≤ delivered is delivered. */
  readonly delivered: number;
  /** Every message with seq ≤ read is read. */
  readonly read: number;
  readonly messages: readonly InboxEntry[];
  /** `after` of the next page; absent on the last page. */
  readonly next?: number;
}

/** What a receipt covers: every message up to a seq (cumulative), or listed seqs. */
export type ReceiptTarget = number | { readonly seqs: readonly number[] };

/** One state change of one message, as an event reports it. */
export interface Transition {
  readonly type: 'message.delivered' | 'message.read';
  readonly seq: number;
  readonly id: string;
}

export interface ReceiptResult {
  /** The changes this receipt made (empty when nothing rose). */
  readonly transitions: readonly Transition[];
  readonly delivered: number;
  readonly read: number;
  /** Seqs read one by one above `read`. */
  readonly readSeqs: readonly number[];
  /** Events published for this receipt, duplicates included (a lost compare-and-set republishes). */
  readonly eventsPublished: number;
}

/** What a watcher hears: a new message, or a committed receipt change. */
export type InboxChange =
  | { readonly kind: 'message'; readonly message: InboxMessage }
  | { readonly kind: 'receipt'; readonly status: 'delivered' | 'read'; readonly delivered: number; readonly read: number; readonly readSeqs: readonly number[]; readonly seqs: readonly number[] };

export type InboxListener = (change: InboxChange) => void;

export interface InboxStore {
  /** Stores a message for `user`; resolves once it is durable (JetStream acknowledged). */
  append(user: string, input: AppendInput): Promise<AppendResult>;
  /** Unread (pending or delivered) messages with seq > afterSeq, in order, at most `limit`. */
  pending(user: string, afterSeq: number, limit: number): Promise<PendingPage>;
  /** Every held message with its state, paginated by seq. */
  list(user: string, options?: ListOptions): Promise<InboxListing>;
  /** Marks messages delivered; one event per message whose state rose. */
  markDelivered(user: string, target: ReceiptTarget): Promise<ReceiptResult>;
  /** Marks messages read (and delivered); one event per transition. */
  markRead(user: string, target: ReceiptTarget): Promise<ReceiptResult>;
  /** Removes a message by id; false when the inbox holds no such id. */
  retract(user: string, id: string): Promise<boolean>;
  /**
   * Live messages and receipt changes of `user` from now on. Subscribe BEFORE reading
   * `pending` (the seam rule, docs/inbox.md). Resolves once the subscription is in place.
   */
  watch(user: string, listener: InboxListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Problems the caller can act on. */
export type InboxErrorCode = 'invalid' | 'unavailable' | 'conflict';

export class InboxError extends Error {
  readonly code: InboxErrorCode;
  constructor(code: InboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InboxError';
    this.code = code;
  }
}
