/**
 * The inbox of memory mode (`herald dev`): the InboxStore contract inside one process.
 * NOT DURABLE: a restart forgets every inbox and every receipt (docs/inbox.md#memory-mode).
 * @module
 */
import type { EventPublisher } from '@herald/events';
import { checkAfter, checkLimit, checkUser, DEFAULT_INBOX_MAX, DEFAULT_INBOX_TTL_MS, DEFAULT_LIST_LIMIT, expiryOf, messageIdOf, PageCollector, visible } from './common.js';
import { NO_EVENTS, publishTransitions } from './events.js';
import { applyReceipt, checkTarget, EMPTY_RECEIPTS, receiptRange, type ReceiptStatus, type ReceiptValue } from './receipts.js';
import type {
  AppendInput, AppendResult, InboxListener, InboxListing, InboxMessage, InboxStore, ListOptions, PendingPage, ReceiptResult, ReceiptTarget,
} from './types.js';

export interface MemoryInboxOptions {
  /** Longest a message is kept, ms (HERALD_INBOX_TTL_MS). */
  readonly ttlMs?: number;
  /** Messages kept per user (HERALD_INBOX_MAX); one more drops the oldest. */
  readonly maxPerUser?: number;
  /** Users kept; one more forgets the least recently written user's inbox. */
  readonly maxUsers?: number;
  /** A repeated id within this window is not stored again, ms (HERALD_DEDUPE_WINDOW_MS). */
  readonly dedupeWindowMs?: number;
  /** Where receipt events go (the in-process event hub). */
  readonly events?: EventPublisher;
  readonly now?: () => number;
}

interface UserInbox {
  messages: InboxMessage[];
  receipts: ReceiptValue;
}

export class MemoryInboxStore implements InboxStore {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #maxUsers: number;
  readonly #dedupeMs: number;
  readonly #events: EventPublisher;
  readonly #now: () => number;
  readonly #users = new Map<string, UserInbox>();
  /** Watchers per user, replaced (never changed) on watch and stop: most users have one or two, and an exact-size array is a fraction of a Set. */
  readonly #listeners = new Map<string, readonly InboxListener[]>();
  #seq = 0;

  constructor(options: MemoryInboxOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_INBOX_TTL_MS;
    this.#max = options.maxPerUser ?? DEFAULT_INBOX_MAX;
    this.#maxUsers = options.maxUsers ?? 100_000;
    this.#dedupeMs = Math.min(options.dedupeWindowMs ?? 120_000, this.#ttlMs);
    this.#events = options.events ?? NO_EVENTS;
    this.#now = options.now ?? Date.now;
  }

  /** The user's inbox with expired messages dropped; `undefined` when it has none. */
  #inbox(user: string): UserInbox | undefined {
    const box = this.#users.get(user);
    if (box === undefined) return undefined;
    const now = this.#now();
    if (box.messages.some((m) => !visible(m, now, this.#ttlMs))) box.messages = box.messages.filter((m) => visible(m, now, this.#ttlMs));
    return box;
  }

  async append(user: string, input: AppendInput): Promise<AppendResult> {
    checkUser(user);
    const id = messageIdOf(input);
    const now = this.#now();
    const exp = expiryOf(input, now, this.#ttlMs);
    let box = this.#inbox(user);
    const dup = box?.messages.find((m) => m.id === id && m.ts > now - this.#dedupeMs);
    if (dup !== undefined) return { seq: dup.seq, id, duplicate: true };
    if (box === undefined) {
      box = { messages: [], receipts: EMPTY_RECEIPTS };
    } else {
      this.#users.delete(user); // re-inserted below: the map's order is least recently written first
    }
    this.#users.set(user, box);
    if (this.#users.size > this.#maxUsers) {
      const oldest = this.#users.keys().next().value;
      if (oldest !== undefined) this.#users.delete(oldest);
    }
    const message: InboxMessage = { user, seq: ++this.#seq, id, ts: now, ...(exp === undefined ? {} : { exp }), data: input.data };
    box.messages.push(message);
    if (box.messages.length > this.#max) box.messages.splice(0, box.messages.length - this.#max);
    this.#notify(user, { kind: 'message', message });
    return { seq: message.seq, id, duplicate: false };
  }

  async pending(user: string, afterSeq: number, limit: number): Promise<PendingPage> {
    checkUser(user);
    const after = checkAfter(afterSeq);
    const box = this.#inbox(user);
    const page = new PageCollector({ limit: checkLimit(limit, DEFAULT_LIST_LIMIT) }, box?.receipts ?? EMPTY_RECEIPTS, DEFAULT_LIST_LIMIT, true);
    for (const m of box?.messages ?? []) if (m.seq > after && !page.take(m)) break;
    return { messages: page.entries, more: page.more };
  }

  async list(user: string, options: ListOptions = {}): Promise<InboxListing> {
    checkUser(user);
    const after = checkAfter(options.after);
    const box = this.#inbox(user);
    const receipts = box?.receipts ?? EMPTY_RECEIPTS;
    const page = new PageCollector(options, receipts, DEFAULT_LIST_LIMIT);
    for (const m of box?.messages ?? []) if (m.seq > after && !page.take(m)) break;
    const last = page.entries.at(-1);
    return { delivered: receipts.d, read: receipts.r, messages: page.entries, ...(page.more && last !== undefined ? { next: last.seq } : {}) };
  }

  markDelivered(user: string, target: ReceiptTarget): Promise<ReceiptResult> {
    return this.#receipt(user, 'delivered', target);
  }

  markRead(user: string, target: ReceiptTarget): Promise<ReceiptResult> {
    return this.#receipt(user, 'read', target);
  }

  /**
   * Decides and commits in one synchronous step (no other receipt can interleave), then
   * publishes: each transition is decided once, so each event is published once.
   */
  async #receipt(user: string, status: ReceiptStatus, rawTarget: ReceiptTarget): Promise<ReceiptResult> {
    checkUser(user);
    const target = checkTarget(rawTarget);
    const box = this.#inbox(user);
    const value = box?.receipts ?? EMPTY_RECEIPTS;
    const range = receiptRange(value, status, target);
    const held = range === undefined || box === undefined ? [] : box.messages.filter((m) => m.seq > range.lo && m.seq <= range.hi);
    const { next, transitions } = applyReceipt(value, status, target, held);
    const result = next ?? value;
    if (next !== undefined && box !== undefined) box.receipts = next;
    if (transitions.length > 0) await publishTransitions(this.#events, user, transitions, this.#now());
    if (next !== undefined) {
      this.#notify(user, { kind: 'receipt', status, delivered: result.d, read: result.r, readSeqs: result.rx, seqs: transitions.filter((t) => t.type === (status === 'read' ? 'message.read' : 'message.delivered')).map((t) => t.seq) });
    }
    return { transitions, delivered: result.d, read: result.r, readSeqs: result.rx, eventsPublished: transitions.length };
  }

  async retract(user: string, id: string): Promise<boolean> {
    checkUser(user);
    const box = this.#inbox(user);
    const i = box?.messages.findIndex((m) => m.id === id) ?? -1;
    if (box === undefined || i < 0) return false;
    box.messages.splice(i, 1);
    return true;
  }

  async watch(user: string, listener: InboxListener): Promise<() => Promise<void>> {
    checkUser(user);
    // The listener itself is listed (no wrapper per watch: one closure less per connection). The
    // same listener watching twice is listed twice; each stop removes one occurrence, once.
    this.#listeners.set(user, (this.#listeners.get(user) ?? []).concat(listener));
    let active = true;
    return () => {
      if (active) {
        active = false;
        const list = this.#listeners.get(user) ?? [];
        const i = list.indexOf(listener);
        if (i >= 0) {
          const rest = list.slice(0, i).concat(list.slice(i + 1));
          if (rest.length === 0) this.#listeners.delete(user);
          else this.#listeners.set(user, rest);
        }
      }
      return Promise.resolve();
    };
  }

  #notify(user: string, change: Parameters<InboxListener>[0]): void {
    for (const l of this.#listeners.get(user) ?? []) {
      try {
        l(change);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}
