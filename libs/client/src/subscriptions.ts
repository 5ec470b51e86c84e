/**
 * The topics the application wants, their handlers, and what the current connection holds.
 * Subscriptions are state, not a queue: while disconnected nothing is sent or queued; on
 * `welcome` the client sends what is wanted, with `since` for every channel it has seen.
 * @module
 */
import { reportLater } from './emitter.js';
import type { HeraldMessage, MessageHandler, SubscribeResult, Subscription } from './types.js';

function liveResult(conflate: boolean): SubscribeResult {
  return conflate ? { ok: true, conflate: true } : { ok: true };
}

/** What the current connection holds of a topic; `refused`: the token forbids it (kept until a new token). */
type Wire = 'none' | 'pending' | 'live' | 'refused';

interface Entry {
  readonly handlers: Set<MessageHandler>;
  wire: Wire;
  /** The gateway said the topic is conflated (`conflate: true` in its `sub` result). */
  flat: boolean;
  /** Messages of retained history to deliver when the topic is first subscribed (`rewind`); 0 once live. */
  backlog: number;
  /** Settles the `ready` promises of this topic's subscriptions not yet answered. */
  settle: ((r: SubscribeResult) => void)[];
}

/** @internal */
export class Subscriptions {
  readonly #entries = new Map<string, Entry>();
  /** Topics left by the application that the connection still holds: `unsub` them. */
  readonly #leaving = new Set<string>();

  /** Adds a handler; `onChange` runs when the subscription's last handler is removed. `rewind` counts before the topic is sent. */
  add(topic: string, handler: MessageHandler, onChange: () => void, rewind = 0): Subscription {
    let entry = this.#entries.get(topic);
    if (entry === undefined) {
      entry = { handlers: new Set(), wire: this.#leaving.delete(topic) ? 'live' : 'none', flat: false, backlog: 0, settle: [] };
      this.#entries.set(topic, entry);
    }
    if (entry.wire === 'none') entry.backlog = Math.max(entry.backlog, rewind);
    // A handler added twice must be removable twice: wrap it so each call is distinct.
    const own: MessageHandler = (m) => handler(m);
    entry.handlers.add(own);
    const e = entry;
    const ready = new Promise<SubscribeResult>((resolve) => (e.wire === 'live' ? resolve(liveResult(e.flat)) : e.settle.push(resolve)));
    let active = true;
    return {
      topic,
      ready,
      unsubscribe: () => {
        if (!active) return;
        active = false;
        if (this.#entries.get(topic) !== e || !e.handlers.delete(own) || e.handlers.size > 0) return;
        this.#entries.delete(topic);
        for (const s of e.settle) s({ ok: false, code: 'unsubscribed' });
        if (e.wire === 'pending' || e.wire === 'live') this.#leaving.add(topic);
        onChange();
      },
    };
  }

  /** Every topic wanted. */
  wanted(): string[] {
    return [...this.#entries.keys()];
  }

  has(topic: string): boolean {
    return this.#entries.has(topic);
  }

  /** The `rewind` asked for a topic not live yet (0: none). */
  rewindOf(topic: string): number {
    return this.#entries.get(topic)?.backlog ?? 0;
  }

  /** Topics wanted that the connection does not hold or ask for yet; marks them pending. */
  takeToSubscribe(): string[] {
    const out: string[] = [];
    for (const [topic, e] of this.#entries) {
      if (e.wire === 'none') {
        e.wire = 'pending';
        out.push(topic);
      }
    }
    return out;
  }

  /** Topics to `unsub`; forgets them. */
  takeToUnsubscribe(): string[] {
    const out = [...this.#leaving];
    this.#leaving.clear();
    return out;
  }

  /** The gateway answered `ok` (or the SSE stream carries the topic); `conflate`: its result said so. */
  live(topic: string, conflate = false): void {
    const e = this.#entries.get(topic);
    if (e === undefined) {
      this.#leaving.add(topic); // left while the `sub` was in flight
      return;
    }
    e.wire = 'live';
    e.flat = conflate;
    e.backlog = 0;
    for (const s of e.settle.splice(0)) s(liveResult(conflate));
  }

  /**
   * Refused. `forbidden`: kept, idle, until a new token (`unrefuse`); `invalid`, `limit`:
   * the subscription ends. Either way its handlers get nothing until it is live again.
   */
  fail(topic: string, code: string): void {
    const e = this.#entries.get(topic);
    if (e === undefined) return;
    if (code === 'forbidden') e.wire = 'refused';
    else this.#entries.delete(topic);
    for (const s of e.settle.splice(0)) s({ ok: false, code });
  }

  refused(topic: string): boolean {
    return this.#entries.get(topic)?.wire === 'refused';
  }

  /** A new token: refused topics are asked for again on the next sync (the gateway decides). */
  unrefuse(): void {
    for (const e of this.#entries.values()) if (e.wire === 'refused') e.wire = 'none';
  }

  /** A `sub` was not answered (err, lost connection): ask again on the next sync. */
  retry(topic: string): void {
    const e = this.#entries.get(topic);
    if (e !== undefined && e.wire === 'pending') e.wire = 'none';
  }

  /** The connection is gone: it holds nothing. */
  resetWire(): void {
    for (const e of this.#entries.values()) if (e.wire !== 'refused') e.wire = 'none';
    this.#leaving.clear();
  }

  dispatch(topic: string, message: HeraldMessage): void {
    const e = this.#entries.get(topic);
    if (e === undefined) return;
    for (const h of [...e.handlers]) {
      try {
        h(message);
      } catch (err) {
        reportLater(err);
      }
    }
  }
}
