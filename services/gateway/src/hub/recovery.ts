/** `since` recovery: buffer live messages, read history, then replay + flush + go live in one synchronous step. */
import { MAX_HISTORY_LIMIT, type Bus, type BusMessage } from '@herald/bus';
import { encodeMsgFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import type { ConnState } from '../conn/state.js';
import type { Sender } from '../conn/send.js';

/** At most this many history messages are replayed for one channel; beyond it the answer is `recovered: false`. */
export const MAX_RECOVERY_MESSAGES = 10_000;
/**
 * Live messages held for one (connection, channel) while history is read. History reads
 * take milliseconds; a channel that outruns this meanwhile is answered `recovered: false`
 * rather than holding unbounded memory per connection.
 */
export const MAX_RECOVERY_BUFFER = 10_000;

/** A live message captured while its connection recovers the channel. */
interface Buffered {
  readonly seq: number;
  readonly frame: string;
}

/** Live messages of one (connection, channel) captured during a recovery. */
export interface RecoveryBuffer {
  readonly st: ConnState;
  readonly channel: string;
  /** The client's `since`: nothing at or below it is sent. */
  readonly since: number;
  readonly items: Buffered[];
  overflow: boolean;
  /**
   * Set once the replay was sent but the bus's live position was still behind its last
   * seq (a gap repair delivering older messages): live messages up to this seq are ones
   * the replay already sent. The fan-out forwards newer ones directly and subscribes the
   * socket natively when the live stream reaches this seq.
   */
  goLiveAt: number | undefined;
  /** Highest seq sent to the socket by the replay or the flush. */
  lastSent: number;
}

/** What history said: the messages to replay, or why the channel cannot be recovered. */
export type RecoveryPlan =
  | { readonly ok: true; readonly messages: readonly BusMessage[] }
  | { readonly ok: false; readonly reason: 'epoch' | 'incomplete' | 'too_many' | 'error' };

export interface RecoveryDeps {
  readonly bus: Pick<Bus, 'history' | 'epoch' | 'position'>;
  readonly sender: Sender;
  readonly metrics: Pick<GatewayMetrics, 'recoveries'>;
  /** The `hub` component logger. */
  readonly log: Logger;
  /** Override of MAX_RECOVERY_MESSAGES (tests). */
  readonly maxMessages?: number;
}

/**
 * Recovery protocol for one (connection, channel): `begin` (the fan-out now copies live
 * messages into the buffer) → the caller confirms bus interest → `read` history →
 * `apply`, which in one synchronous step sends the replay, flushes buffered messages newer
 * than the replay, and subscribes the socket natively. Nothing can slip in between: the
 * event loop does not run during `apply`.
 */
export class Recovery {
  readonly #deps: RecoveryDeps;
  readonly #maxMessages: number;
  readonly #byChannel = new Map<string, Set<RecoveryBuffer>>();

  constructor(deps: RecoveryDeps) {
    this.#deps = deps;
    this.#maxMessages = deps.maxMessages ?? MAX_RECOVERY_MESSAGES;
  }

  /** Starts capturing live messages of `channel` for `st`. If the socket already receives it natively, stops that. */
  begin(st: ConnState, channel: string, since: number): RecoveryBuffer {
    const buf: RecoveryBuffer = { st, channel, since, items: [], overflow: false, goLiveAt: undefined, lastSent: since };
    let set = this.#byChannel.get(channel);
    if (!set) {
      set = new Set();
      this.#byChannel.set(channel, set);
    }
    set.add(buf);
    // A live channel (e.g. the personal one after a detected gap) goes quiet natively; its live messages now land in the buffer.
    if (!st.closed && st.ws !== undefined) st.ws.unsubscribe(channel);
    return buf;
  }

  /** Stops capturing, unless the buffer waits for the live stream to catch up (idempotent). */
  release(buf: RecoveryBuffer): void {
    if (buf.goLiveAt === undefined) this.end(buf);
  }

  /** Drops any capture of `channel` for `st` (unsubscribed or closed meanwhile). */
  cancel(st: ConnState, channel: string): void {
    const set = this.#byChannel.get(channel);
    if (!set) return;
    for (const buf of set) if (buf.st === st) this.end(buf);
  }

  /** Stops capturing (idempotent). */
  end(buf: RecoveryBuffer): void {
    const set = this.#byChannel.get(buf.channel);
    if (!set) return;
    set.delete(buf);
    if (set.size === 0) this.#byChannel.delete(buf.channel);
  }

  /** Fan-out hook: true when some connection is recovering `channel` (cheap check first). */
  has(channel: string): boolean {
    return this.#byChannel.size !== 0 && this.#byChannel.has(channel);
  }

  /**
   * Fan-out hook, called after the native publish: copies one live message into every
   * buffer of its channel, or forwards it to a connection whose replay is done and whose
   * live stream is catching up (and subscribes it natively once caught up).
   */
  offer(channel: string, seq: number, frame: string): void {
    const set = this.#byChannel.get(channel);
    if (!set) return;
    for (const buf of set) {
      if (buf.goLiveAt !== undefined) {
        this.#catchUp(buf, seq, frame);
        continue;
      }
      if (buf.overflow) continue;
      if (buf.items.length >= MAX_RECOVERY_BUFFER) {
        buf.overflow = true;
        buf.items.length = 0;
      } else buf.items.push({ seq, frame });
    }
  }

  /** Reads every held message of `channel` after `since` (page by page, bounded). Never rejects. */
  async read(channel: string, since: number, epoch: string | undefined): Promise<RecoveryPlan> {
    const current = this.#deps.bus.epoch();
    if (epoch !== undefined && epoch !== current) return { ok: false, reason: 'epoch' };
    const out: BusMessage[] = [];
    let cursor = since;
    try {
      for (;;) {
        const page = await this.#deps.bus.history(channel, { since: cursor, limit: MAX_HISTORY_LIMIT });
        if (page.epoch !== current) return { ok: false, reason: 'epoch' };
        if (!page.complete) return { ok: false, reason: 'incomplete' };
        for (const m of page.messages) if (m.seq > cursor) out.push(m);
        if (out.length > this.#maxMessages) return { ok: false, reason: 'too_many' };
        const last = page.messages[page.messages.length - 1];
        if (!page.truncated || last === undefined) break;
        cursor = last.seq;
      }
    } catch (err) {
      this.#deps.log.warn({ err, channel }, 'history read failed during recovery');
      return { ok: false, reason: 'error' };
    }
    return { ok: true, messages: out };
  }

  /**
   * Synchronous tail: replay, flush newer buffered messages, subscribe natively, stop
   * capturing. Returns `recovered`. When not recoverable, buffered live messages are still
   * flushed (they are live, in order) unless the buffer overflowed. The join (hub/join.ts)
   * calls it inside its own corked step, right after `welcome` where there is one.
   */
  apply(buf: RecoveryBuffer, plan: RecoveryPlan): boolean {
    const { st, channel } = buf;
    const ws = st.ws;
    const recovered = plan.ok && !buf.overflow;
    this.#deps.metrics.recoveries.inc({ outcome: recovered ? 'recovered' : 'not_recovered' });
    if (!recovered) {
      this.#deps.log.debug({ conn: st.connId, user: st.sub, channel, reason: plan.ok ? 'overflow' : plan.reason }, 'not recovered');
    }
    if (st.closed || ws === undefined) {
      this.end(buf);
      return recovered;
    }
    ws.cork(() => {
      let last = buf.since;
      if (recovered) {
        for (const m of plan.messages) {
          if (!this.#deps.sender.sendMsg(st, channel, m.seq, encodeMsgFrame(m.channel, m.seq, m.prev, m.data, m.ts, m.id))) return;
          last = m.seq;
        }
      }
      if (!buf.overflow) {
        for (const item of buf.items) {
          if (item.seq <= last) continue;
          if (!this.#deps.sender.sendMsg(st, channel, item.seq, item.frame)) return;
          last = item.seq;
        }
      }
      buf.items.length = 0;
      buf.lastSent = last;
      // Live delivery continues the replay only once the bus has delivered up to `last`;
      // before that, older messages (a gap repair) may still come and must not reach the socket twice.
      const position = this.#deps.bus.position(channel);
      if (position !== undefined && position < last && !st.closed) {
        buf.goLiveAt = last;
        return;
      }
      this.end(buf);
      if (!st.closed) ws.subscribe(channel);
    });
    if (buf.goLiveAt === undefined) this.end(buf);
    return recovered;
  }

  /** A live message for a connection whose replay is done: forward what is new, go native once caught up. */
  #catchUp(buf: RecoveryBuffer, seq: number, frame: string): void {
    const { st } = buf;
    const ws = st.ws;
    if (st.closed || ws === undefined) {
      this.end(buf);
      return;
    }
    if (seq > buf.lastSent) {
      if (!this.#deps.sender.sendMsg(st, buf.channel, seq, frame)) {
        this.end(buf);
        return;
      }
      buf.lastSent = seq;
    }
    if (seq >= (buf.goLiveAt as number)) {
      this.end(buf);
      ws.subscribe(buf.channel);
    }
  }
}
