/**
 * Receipts (docs/protocol.md#inbox): the `receipt` frame of a WebSocket and `POST
 * /v1/inbox/receipts` of an SSE client, both → markDelivered / markRead of the store (which
 * publishes one `message.delivered` / `message.read` event per transition). Bounded: the frame
 * is validated by the codec, WebSocket frames pay the command rate, HTTP receipts a per-user
 * token bucket, and at most MAX_IN_FLIGHT receipts run at once per node.
 * @module
 */
import { InboxError, type InboxStore } from '@herald/inbox';
import type { ReceiptFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';

/** Receipts applied at once per node; beyond: `unavailable` (the client sends it again later). */
export const MAX_IN_FLIGHT = 1000;
/** HTTP receipts per second per user (burst 2×), and users tracked at most. */
export const HTTP_RECEIPT_RATE = 10;
const HTTP_BUCKETS_MAX = 10_000;

export type ReceiptOutcome = 'ok' | 'invalid' | 'unavailable';

export class Receipts {
  readonly #store: () => Promise<InboxStore>;
  readonly #log: Logger;
  #inFlight = 0;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(o: { store: () => Promise<InboxStore>; log: Logger }) {
    this.#store = o.store;
    this.#log = o.log;
  }

  /** Applies one receipt of `user`. Never rejects. */
  async apply(user: string, r: Pick<ReceiptFrame, 'status' | 'upTo' | 'seqs'>): Promise<ReceiptOutcome> {
    if (this.#inFlight >= MAX_IN_FLIGHT) return 'unavailable';
    this.#inFlight++;
    try {
      const store = await this.#store();
      const target = r.upTo !== undefined ? r.upTo : { seqs: r.seqs ?? [] };
      const result = r.status === 'read' ? await store.markRead(user, target) : await store.markDelivered(user, target);
      this.#log.debug({ user, status: r.status, transitions: result.transitions.length, events: result.eventsPublished }, 'receipt applied');
      return 'ok';
    } catch (err) {
      if (err instanceof InboxError && err.code === 'invalid') return 'invalid';
      this.#log.warn({ user, status: r.status, err }, 'receipt failed');
      return 'unavailable';
    } finally {
      this.#inFlight--;
    }
  }

  /** Token bucket of a user's HTTP receipts: false when over HTTP_RECEIPT_RATE. */
  takeHttp(user: string, now = Date.now()): boolean {
    let b = this.#buckets.get(user);
    if (b === undefined) {
      if (this.#buckets.size >= HTTP_BUCKETS_MAX) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      b = { tokens: 2 * HTTP_RECEIPT_RATE, at: now };
      this.#buckets.set(user, b);
    }
    b.tokens = Math.min(2 * HTTP_RECEIPT_RATE, b.tokens + ((now - b.at) / 1000) * HTTP_RECEIPT_RATE);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
