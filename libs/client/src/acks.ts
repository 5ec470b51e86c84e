/**
 * Commands waiting for their reply, matched by id, each with a timeout. Bounded by what
 * is in flight on one connection (subscription batches, one `auth`, recoveries); a new
 * connection starts empty.
 * @module
 */
import type { InboundFrame } from './transport.js';

interface Pending {
  readonly onReply: (frame: InboundFrame) => void;
  readonly onDrop: (() => void) | undefined;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** @internal */
export class Acks {
  #next = 0;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  readonly #onTimeout: () => void;

  constructor(timeoutMs: number, onTimeout: () => void) {
    this.#timeoutMs = timeoutMs;
    this.#onTimeout = onTimeout;
  }

  /** A new id whose `ack`/`err` goes to `onReply`; after the timeout, `onTimeout` runs instead; `onDrop` when the connection goes first. */
  expect(onReply: (frame: InboundFrame) => void, onDrop?: () => void): number {
    const id = ++this.#next;
    const timer = setTimeout(() => {
      this.#pending.delete(id);
      this.#onTimeout();
    }, this.#timeoutMs);
    this.#pending.set(id, { onReply, onDrop, timer });
    return id;
  }

  /** Routes an `ack` or `err`; false when no command waits for that id. */
  reply(frame: InboundFrame): boolean {
    const id = frame['id'];
    const p = typeof id === 'number' ? this.#pending.get(id) : undefined;
    if (p === undefined) return false;
    clearTimeout(p.timer);
    this.#pending.delete(id as number);
    p.onReply(frame);
    return true;
  }

  /** The connection is gone: drop every waiter (their commands are re-sent as state on the next one). */
  clear(): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.onDrop?.();
    }
  }
}
