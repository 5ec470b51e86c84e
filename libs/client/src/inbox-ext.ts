/**
 * `client.inbox` (docs/sdk.md#inbox): the user's inbox messages (docs/protocol.md#inbox) as a
 * pending list and `message` events, deduplicated by seq (a reconnect may send a message again:
 * at-least-once on the wire, once to the app), `delivered` acknowledged on hand-over (unless
 * `autoDelivered: false`), `markRead`, and the `read` frames of the user's other devices.
 * Receipts go as `receipt` frames on a WebSocket and as `POST /v1/inbox/receipts` otherwise.
 * @module
 */
import { Emitter } from './emitter.js';
import { endpoints } from './endpoints.js';
import type { InboundFrame, Transport } from './transport.js';
import type { HeraldClientOptions } from './types.js';

type PostFetch = (url: string, init: { method: string; headers: Record<string, string>; body: string }) => Promise<{ status: number }>;

/** Messages the pending list holds at most (the gateway's per-user maximum is 1,000 by default); the oldest go first. */
export const MAX_PENDING = 1000;
/** Unanswered receipts at most; beyond, a receipt is sent without waiting for its answer. */
const MAX_WAITING = 100;
/** A receipt's answer is awaited this long, ms. */
const RECEIPT_TIMEOUT_MS = 10_000;

/** One inbox message as the app sees it. */
export interface InboxMessage<T = unknown> {
  /** Inbox seq: increasing within the user's inbox, not contiguous. */
  readonly seq: number;
  /** The publish `id` (or the server's `m_…`). */
  readonly id: string;
  /** When it was stored, ms. */
  readonly ts: number;
  /** When it stops being kept, ms; absent: the server's TTL. */
  readonly exp?: number;
  /** `delivered` when a connection of the user acknowledged it before this one got it. */
  readonly state: 'pending' | 'delivered';
  readonly data: T;
}

export interface InboxEvents {
  /** A new inbox message handed to the app (once per seq, in seq order). */
  message: (message: InboxMessage) => void;
  /** Messages another device (or this one) marked read: removed from `pending`. */
  read: (seqs: number[]) => void;
}

/** `client.inbox`. */
export interface Inbox {
  /** Unread messages this client holds, in seq order (read ones are removed). */
  readonly pending: readonly InboxMessage[];
  /** The last inbox seq handed to the app (0: none). */
  readonly last: number;
  on<K extends keyof InboxEvents>(event: K, handler: InboxEvents[K]): () => void;
  /** Marks one message read (on every device of the user); resolves once the server applied it. */
  markRead(message: number | InboxMessage): Promise<void>;
  /** Marks every message up to the last one handed over read. */
  markAllRead(): Promise<void>;
  /** Acknowledges `delivered` up to a seq (what `autoDelivered` does on hand-over). */
  markDelivered(upTo?: number): Promise<void>;
}

/** What the inbox entry adds to the client's options. */
export interface InboxOptions {
  /** Acknowledge `delivered` as each message is handed to the app (batched per tick). Default true. */
  readonly autoDelivered?: boolean;
}

type Receipt = { status: 'delivered' | 'read'; upTo?: number; seqs?: number[] };

const refused = (why: unknown): Error => new Error('receipt refused: ' + why);

/** @internal The inbox side of one client: fed every frame with the transport it came on; `last` for `?inbox=` on reconnect. */
export function inboxExt(options: HeraldClientOptions & InboxOptions): { inbox: Inbox; feed(f: InboundFrame, t?: Transport): void } {
  const pending: InboxMessage[] = [];
  const events = new Emitter<{ message: [InboxMessage]; read: [number[]] }>();
  // Receipts sent as frames, by id: settled by their `ack` / `err` (an error), or after the timeout.
  const waiting = new Map<string, (err?: Error) => void>();
  const auto = options.autoDelivered !== false;
  const url = endpoints(options.url).sse.replace(/sse$/, 'inbox/receipts');
  let transport: Transport | undefined;
  let last = 0;
  let acked = 0;
  let queued = false;
  let n = 0;

  const post = async (r: Receipt): Promise<void> => {
    const fetch = (options.fetch ?? (globalThis as { fetch?: unknown }).fetch) as PostFetch;
    const token = options.getToken ? await options.getToken() : options.token;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify(r) });
    if (res.status !== 204) throw refused(res.status);
  };

  // A `receipt` frame on the WebSocket, answered by `ack`/`err`; otherwise (SSE, or between connections) over HTTP.
  const send = (r: Receipt): Promise<void> => {
    const id = 'i' + ++n;
    return waiting.size < MAX_WAITING && transport?.send({ op: 'receipt', id, ...r })
      ? new Promise((resolve, reject) => {
          const timer = setTimeout(() => done(refused('timeout')), RECEIPT_TIMEOUT_MS);
          const done = (err?: Error): void => {
            clearTimeout(timer);
            waiting.delete(id);
            if (err) reject(err);
            else resolve();
          };
          waiting.set(id, done);
        })
      : post(r);
  };

  // The mark moves once the server took it, so a receipt lost with its connection is sent again.
  const markDelivered = (upTo = last): Promise<void> =>
    upTo > acked ? send({ status: 'delivered', upTo }).then(() => { acked = Math.max(acked, upTo); }) : Promise.resolve();


  const removeRead = (read: (seq: number) => boolean): void => {
    const gone: number[] = [];
    for (let i = pending.length; i--; ) if (read((pending[i] as InboxMessage).seq)) gone.unshift((pending.splice(i, 1)[0] as InboxMessage).seq);
    if (gone[0]) events.emit('read', gone);
  };

  const inbox: Inbox = {
    pending,
    get last() {
      return last;
    },
    on: (event, handler) => events.on(event, handler as never),
    markRead(message) {
      const seq = typeof message === 'number' ? message : message.seq;
      removeRead((s) => s === seq);
      return send({ status: 'read', seqs: [seq] });
    },
    markAllRead() {
      const upTo = last;
      removeRead((s) => s <= upTo);
      return upTo > 0 ? send({ status: 'read', upTo }) : Promise.resolve();
    },
    markDelivered,
  };

  return {
    inbox,
    feed(f, t) {
      transport = t;
      const seq = f['seq'];
      if (f.op === 'inbox') {
        if (typeof seq !== 'number' || seq <= last) return; // already handed over: a resend after a reconnect
        last = seq;
        const m = { seq, id: String(f['id']), ts: Number(f['ts']), state: f['state'] === 'delivered' ? 'delivered' : 'pending', data: f['data'], ...(typeof f['exp'] === 'number' ? { exp: f['exp'] } : {}) } as InboxMessage;
        if (pending.push(m) > MAX_PENDING) pending.shift();
        events.emit('message', m);
      } else if (f.op === 'read') {
        const upTo = typeof f['upTo'] === 'number' ? f['upTo'] : 0;
        const seqs = Array.isArray(f['seqs']) ? (f['seqs'] as unknown[]) : [];
        return removeRead((s) => s <= upTo || seqs.includes(s));
      } else if (f.op === 'ack' || f.op === 'err') {
        return waiting.get(String(f['id']))?.(f.op === 'err' ? refused(f['code']) : undefined);
      } else if (f.op !== 'welcome') return;
      // Automatic `delivered` after a message (batched per tick) and at each connection: one that
      // failed (its connection went away before the answer) is not the app's error, it goes again.
      if (auto && !queued) {
        queued = true;
        queueMicrotask(() => {
          queued = false;
          markDelivered().catch(() => undefined);
        });
      }
    },
  };
}
