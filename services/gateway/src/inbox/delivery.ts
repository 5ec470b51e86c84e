/**
 * Inbox delivery to one connection (docs/inbox.md#the-seam-at-connect-for-the-gateway): watch
 * first (live messages are buffered), page through the unread messages after the client's
 * position, flush the buffer keeping only seq > the last sent, then send live messages
 * directly. Receipt changes of the user become `read` frames unless this connection already
 * knows them (it sent that receipt itself).
 * @module
 */
import { CloseCode } from '@herald/protocol';
import { inboxChannel, MAX_PAGE, type InboxChange, type InboxEntry, type InboxMessage, type InboxStore } from '@herald/inbox';
import type { Logger } from '@herald/telemetry';
import type { Sender } from '../conn/send.js';
import type { ConnState } from '../conn/state.js';

/** Retry delays of a connect-time read that failed (store unreachable), ms; the last one repeats while the connection lives. */
const RETRY_MS = [500, 1000, 2000, 5000, 10_000] as const;
/** Loose read seqs a connection remembers (above its known cumulative mark). */
const MAX_KNOWN_SEQS = 1000;

export interface DeliveryDeps {
  readonly store: () => Promise<InboxStore>;
  readonly sender: Pick<Sender, 'sendMsg' | 'sendText' | 'close'>;
  /** HERALD_INBOX_MAX: live messages buffered during the read at most (beyond: 4008). */
  readonly maxBuffered: number;
  readonly log: Logger;
}

/** The `inbox` frame text of a message; `data` is already JSON text. */
export function inboxFrameText(m: InboxMessage, state: 'pending' | 'delivered'): string {
  return '{"op":"inbox","seq":' + m.seq + ',"id":' + JSON.stringify(m.id) + ',"ts":' + m.ts + (m.exp === undefined ? '' : ',"exp":' + m.exp) + ',"state":"' + state + '","data":' + m.data + '}';
}

/** One connection's inbox: created when the connection went live, stopped at close. */
export class ConnInbox {
  readonly #st: ConnState;
  readonly #deps: DeliveryDeps;
  /** Last inbox seq sent (or the client's resume position). */
  #last: number;
  /** Live messages heard while the connect-time read runs; undefined once live. */
  #buffer: InboxMessage[] | undefined = [];
  #stop: (() => Promise<void>) | undefined;
  #stopped = false;
  #delivered = 0;
  #read = 0;
  /** Single read seqs above the cumulative mark; made at the first one (most connections never need it). */
  #readSeqs: Set<number> | undefined;

  constructor(st: ConnState, after: number, deps: DeliveryDeps) {
    this.#st = st;
    this.#deps = deps;
    this.#last = after;
  }

  /** Runs the seam; retries a failed read while the connection lives. Never rejects. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.#gone(); attempt++) {
      try {
        await this.#catchUp();
        return;
      } catch (err) {
        if (this.#gone()) return;
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
        this.#deps.log.warn({ conn: this.#st.connId, user: this.#st.sub, err, retryMs: delay }, 'inbox read failed; retrying');
        await this.#unwatch();
        this.#buffer = [];
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #catchUp(): Promise<void> {
    const store = await this.#deps.store();
    if (this.#gone()) return;
    const stop = await store.watch(this.#st.sub, (change) => this.#onChange(change));
    if (this.#gone()) return void (await stop());
    this.#stop = stop;
    for (let more = true; more && !this.#gone(); ) {
      const page = await store.pending(this.#st.sub, this.#last, MAX_PAGE);
      for (const m of page.messages) this.#send(m, stateOf(m));
      more = page.more && page.messages.length > 0;
    }
    const buffered = this.#buffer ?? [];
    this.#buffer = undefined;
    for (const m of buffered) if (m.seq > this.#last) this.#send(m, this.#liveState(m));
  }

  /** A receipt this connection sends itself: its own `read` frames are not echoed back to it. */
  noteOwnRead(target: number | readonly number[]): void {
    if (typeof target === 'number') this.#raiseRead(target);
    else for (const s of target) if (s > this.#read) this.#noteReadSeq(s);
  }

  /** Stops watching. Idempotent. */
  stop(): void {
    this.#stopped = true;
    void this.#unwatch();
  }

  #gone(): boolean {
    return this.#stopped || this.#st.closed;
  }

  async #unwatch(): Promise<void> {
    const stop = this.#stop;
    this.#stop = undefined;
    await stop?.().catch(() => undefined);
  }

  #onChange(change: InboxChange): void {
    if (this.#gone()) return;
    if (change.kind === 'message') {
      const m = change.message;
      if (this.#buffer === undefined) {
        if (m.seq > this.#last) this.#send(m, this.#liveState(m));
        return;
      }
      if (this.#buffer.length >= this.#deps.maxBuffered) {
        this.#deps.log.warn({ conn: this.#st.connId, user: this.#st.sub, buffered: this.#buffer.length }, 'closing: inbox too far behind');
        this.#deps.sender.close(this.#st, CloseCode.SlowConsumer, 'inbox too far behind');
        return;
      }
      this.#buffer.push(m);
      return;
    }
    if (change.delivered > this.#delivered) this.#delivered = change.delivered;
    if (change.status !== 'read') return;
    // A change may arrive after a later receipt of this connection already covered it (the
    // state subject is asynchronous): a seq at or below the known cumulative mark is known.
    const fresh = change.read > this.#read || change.readSeqs.some((s) => s > this.#read && this.#readSeqs?.has(s) !== true);
    if (!fresh) return;
    this.#raiseRead(change.read);
    const loose = change.readSeqs.filter((s) => s > change.read);
    for (const s of loose) this.#noteReadSeq(s);
    const frame = loose.length > 0 ? { op: 'read', upTo: change.read, seqs: loose } : { op: 'read', upTo: change.read };
    this.#deps.sender.sendText(this.#st, JSON.stringify(frame));
  }

  #raiseRead(upTo: number): void {
    if (upTo <= this.#read) return;
    this.#read = upTo;
    const seqs = this.#readSeqs;
    if (seqs === undefined) return;
    for (const s of seqs) if (s <= upTo) seqs.delete(s);
    if (seqs.size === 0) this.#readSeqs = undefined;
  }

  #noteReadSeq(seq: number): void {
    const seqs = (this.#readSeqs ??= new Set());
    if (seqs.size < MAX_KNOWN_SEQS) seqs.add(seq);
  }

  #liveState(m: InboxMessage): 'pending' | 'delivered' {
    return m.seq <= this.#delivered ? 'delivered' : 'pending';
  }

  #send(m: InboxMessage, state: 'pending' | 'delivered'): void {
    if (m.seq <= this.#last && this.#buffer === undefined) return;
    this.#last = Math.max(this.#last, m.seq);
    // the channel name is made per message, not kept per connection: most connections never get one
    this.#deps.sender.sendMsg(this.#st, inboxChannel(this.#st.sub), m.seq, inboxFrameText(m, state));
  }
}

function stateOf(m: InboxEntry): 'pending' | 'delivered' {
  return m.state === 'delivered' ? 'delivered' : 'pending';
}
