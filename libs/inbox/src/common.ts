/**
 * Pieces both stores share: option checks, message ids, visibility by TTL, listing arithmetic.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { InboxError, MAX_PAGE, type AppendInput, type InboxEntry, type InboxMessage, type InboxState, type ListOptions } from './types.js';
import { stateOf, type ReceiptValue } from './receipts.js';

/** Default TTL: 7 days (HERALD_INBOX_TTL_MS). */
export const DEFAULT_INBOX_TTL_MS = 7 * 24 * 3_600_000;
/** Default messages per user (HERALD_INBOX_MAX). */
export const DEFAULT_INBOX_MAX = 1000;
/** Default listing page. */
export const DEFAULT_LIST_LIMIT = 100;

const ID_PATTERN = /^[\x21-\x7e]{1,64}$/;
const MAX_USER_BYTES = 256;

/** Refuses a user id the protocol would not accept (1 to 256 bytes, no control characters). */
export function checkUser(user: string): void {
  if (typeof user !== 'string' || user.length === 0 || Buffer.byteLength(user) > MAX_USER_BYTES || /[\u0000-\u001f\u007f]/.test(user)) {
    throw new InboxError('invalid', 'user id must be 1 to 256 bytes without control characters');
  }
}

/** The message id of an append: the given one (checked) or `m_` + 22 random base64url characters. */
export function messageIdOf(input: AppendInput): string {
  if (input.id === undefined) return 'm_' + randomBytes(16).toString('base64url').slice(0, 22);
  if (!ID_PATTERN.test(input.id)) throw new InboxError('invalid', 'message id must be 1 to 64 visible ASCII characters');
  return input.id;
}

/** Expiry of a message appended at `now`, when shorter than the store's TTL. */
export function expiryOf(input: AppendInput, now: number, ttlMs: number): number | undefined {
  if (input.ttlMs === undefined) return undefined;
  if (!Number.isSafeInteger(input.ttlMs) || input.ttlMs < 1) throw new InboxError('invalid', 'ttl must be a positive integer of ms');
  return input.ttlMs < ttlMs ? now + input.ttlMs : undefined;
}

/** Whether a message is still readable at `now`. */
export function visible(m: InboxMessage, now: number, ttlMs: number): boolean {
  return now < m.ts + ttlMs && (m.exp === undefined || now < m.exp);
}

export function checkLimit(limit: number | undefined, fallback: number): number {
  const l = limit ?? fallback;
  if (!Number.isSafeInteger(l) || l < 1 || l > MAX_PAGE) throw new InboxError('invalid', `limit must be 1 to ${MAX_PAGE}`);
  return l;
}

export function checkAfter(after: number | undefined): number {
  const a = after ?? 0;
  if (!Number.isSafeInteger(a) || a < 0) throw new InboxError('invalid', 'after must be a non-negative integer');
  return a;
}

export function withState(m: InboxMessage, receipts: ReceiptValue): InboxEntry {
  return { ...m, state: stateOf(receipts, m.seq) };
}

/** Collects a listing page: call `take` per message in seq order until it returns false. */
export class PageCollector {
  readonly entries: InboxEntry[] = [];
  more = false;
  readonly #limit: number;
  readonly #state: InboxState | undefined;
  readonly #receipts: ReceiptValue;

  constructor(options: ListOptions, receipts: ReceiptValue, fallbackLimit: number, onlyUnread = false) {
    this.#limit = checkLimit(options.limit, fallbackLimit);
    this.#state = options.state;
    this.#receipts = receipts;
    this.#onlyUnread = onlyUnread;
  }

  readonly #onlyUnread: boolean;

  /** Offers the next message; false once the page is full (and one more matching message exists). */
  take(m: InboxMessage): boolean {
    const entry = withState(m, this.#receipts);
    if (this.#onlyUnread && entry.state === 'read') return true;
    if (this.#state !== undefined && entry.state !== this.#state) return true;
    if (this.entries.length === this.#limit) {
      this.more = true;
      return false;
    }
    this.entries.push(entry);
    return true;
  }
}
