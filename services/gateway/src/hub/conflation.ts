/** Conflated topics (HERALD_CONFLATE_TOPICS): a connection that falls behind is paused on them and later gets only their newest message. */
import { compileTopicPatterns, type TopicMatcher } from '@herald/auth';
import type { BusMessage } from '@herald/bus';
import { TOPIC_PREFIX, encodeMsgFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import type { ConnConflation, ConnState } from '../conn/state.js';
import type { Sender } from '../conn/send.js';

/**
 * While conflated traffic flows, the connections holding conflated topics are checked this
 * often (one native getBufferedAmount each). Between checks a socket can take what the
 * topic sends in this time above the high-water mark; the 1 s sweep and direct sends check
 * too. Only connections with a conflated subscription are checked.
 */
export const CONFLATION_CHECK_MS = 100;

/** A connection is paused on its conflated topics once its send buffer passes 1/4 of WS_MAX_BACKPRESSURE_BYTES... */
export const HIGH_WATER_DIVISOR = 4;
/** ...and resumed once it drained to 1/16 of it. */
export const LOW_WATER_DIVISOR = 16;

/** Node-wide state of one conflated channel that some local connection holds. */
interface ChannelRecord {
  /** Local connections holding the channel (paused or not). */
  holders: number;
  /** The newest message fanned out: the one a paused connection gets when it resumes. */
  latest: BusMessage | undefined;
  /** Messages fanned out since the record was made (to count what paused connections skip). */
  count: number;
}

export interface ConflationDeps {
  /** Validated topic patterns (config CONFLATE_TOPICS); empty: conflation is off and every hook is a no-op. */
  readonly patterns: readonly string[];
  /** WS_MAX_BACKPRESSURE_BYTES: the water marks derive from it. */
  readonly maxBackpressureBytes: number;
  /** Direct sends (late-bound: the Sender is built with this object as its relief). */
  readonly sender: () => Pick<Sender, 'sendMsg'>;
  /** The bus's live position of a channel: where a paused socket stands when nothing was fanned out yet. */
  readonly position: (channel: string) => number | undefined;
  readonly metrics: Pick<GatewayMetrics, 'conflations' | 'conflatedMessages'>;
  /** The `hub` component logger. */
  readonly log: Logger;
}

/**
 * The fan-out stays one native `app.publish` per message: a connection that keeps up is a
 * plain uWS subscriber of a conflated topic, with no JavaScript per socket. Conflation acts
 * on connections that fall behind:
 *
 * - **pause**: once a socket's send buffer passes the high-water mark (seen by the check
 *   timer, a direct send, or the 1 s sweep), it is natively unsubscribed from every conflated
 *   topic it receives live, and the seq it holds of each is noted (the last one fanned out).
 * - meanwhile the node keeps the newest message of each conflated channel (one per channel,
 *   not per socket).
 * - **resume**: once the buffer drained to the low-water mark (uWS `drain`, the check timer or
 *   the sweep), in one synchronous corked block per socket: for each paused channel, the newest
 *   message if it is newer than what the socket holds (flagged `conflated` when it skips
 *   some), then the native subscription again. No fan-out runs inside the block, so nothing
 *   is duplicated and nothing goes backwards.
 *
 * Non-conflated channels (the personal one, other topics) are never paused: their bytes count
 * toward the 4008 limit as before.
 */
export class Conflation {
  readonly #deps: ConflationDeps;
  readonly #matcher: TopicMatcher | undefined;
  readonly #channels = new Map<string, ChannelRecord>();
  /** Connections holding at least one conflated channel. */
  readonly #sockets = new Set<ConnState>();
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  #timer: NodeJS.Timeout | undefined;
  /** The connection being resumed: its own sends must not pause it again halfway. */
  #resuming: ConnState | undefined;

  constructor(deps: ConflationDeps) {
    this.#deps = deps;
    this.#matcher = deps.patterns.length === 0 ? undefined : compileTopicPatterns(deps.patterns);
    this.highWaterBytes = Math.floor(deps.maxBackpressureBytes / HIGH_WATER_DIVISOR);
    this.lowWaterBytes = Math.floor(deps.maxBackpressureBytes / LOW_WATER_DIVISOR);
  }

  /** Some topic pattern is configured. */
  get enabled(): boolean {
    return this.#matcher !== undefined;
  }

  /** Conflated channels held on this node (the fan-out's cheap check). */
  get size(): number {
    return this.#channels.size;
  }

  /** True when `channel` is a topic channel matched by a conflation pattern. */
  isConflated(channel: string): boolean {
    return this.#matcher !== undefined && channel.startsWith(TOPIC_PREFIX) && this.#matcher.allows(channel.slice(TOPIC_PREFIX.length));
  }

  /** `st` added `channel` to its channels (hub/subscriptions.ts). */
  joined(st: ConnState, channel: string): void {
    if (!this.isConflated(channel)) return;
    const c = (st.conflate ??= { held: new Set(), paused: new Map(), slack: 0 });
    if (c.held.has(channel)) return;
    c.held.add(channel);
    let rec = this.#channels.get(channel);
    if (rec === undefined) {
      rec = { holders: 0, latest: undefined, count: 0 };
      this.#channels.set(channel, rec);
    }
    rec.holders++;
    this.#sockets.add(st);
  }

  /** `st` removed `channel` from its channels (unsub, auth, close, failed subscribe). Never touches the socket. */
  left(st: ConnState, channel: string): void {
    const c = st.conflate;
    if (c === undefined || !c.held.delete(channel)) return;
    c.paused.delete(channel);
    if (c.paused.size === 0) c.slack = 0;
    const rec = this.#channels.get(channel);
    if (rec !== undefined && --rec.holders <= 0) this.#channels.delete(channel);
    if (c.held.size === 0) {
      st.conflate = undefined;
      this.#sockets.delete(st);
    }
  }

  /** A recovery (`sub` with `since`) takes over `channel` for `st`: forget the pause, send nothing. */
  reset(st: ConnState, channel: string): void {
    const c = st.conflate;
    if (c === undefined || !c.paused.delete(channel)) return;
    if (c.paused.size === 0) c.slack = 0;
  }

  /** The connection closed: forget it. */
  releaseAll(st: ConnState): void {
    const c = st.conflate;
    if (c === undefined) return;
    for (const channel of [...c.held]) this.left(st, channel);
  }

  /** Fan-out hook, after the native publish: remember the newest message of a held conflated channel. */
  offer(m: BusMessage): void {
    const rec = this.#channels.get(m.channel);
    if (rec === undefined) return;
    rec.latest = m;
    rec.count++;
    if (this.#timer === undefined && this.#sockets.size !== 0) {
      this.#timer = setTimeout(() => this.check(), CONFLATION_CHECK_MS);
      this.#timer.unref();
    }
  }

  /**
   * Backpressure hook of the Sender (direct sends, and the sweep): pauses `st` above the
   * high-water mark, resumes it at the low one. Returns the bytes by which its 4008 limit is
   * raised (ConnConflation.slack).
   */
  relieve(st: ConnState, buffered: number): number {
    const c = st.conflate;
    if (c === undefined) return 0;
    if (this.#resuming === st) return c.slack;
    if (c.paused.size !== 0 && buffered <= this.lowWaterBytes) {
      this.#resume(st, c);
      return 0;
    }
    if (buffered > this.highWaterBytes) this.#pause(st, c, buffered);
    return c.slack;
  }

  /** uWS `drain`: resumes a paused socket whose buffer drained to the low-water mark. */
  drained(st: ConnState): void {
    const c = st.conflate;
    const ws = st.ws;
    if (c === undefined || c.paused.size === 0 || st.closed || ws === undefined) return;
    if (ws.getBufferedAmount() <= this.lowWaterBytes) this.#resume(st, c);
  }

  /** The check timer (public for tests): every connection holding a conflated topic, once. */
  check(): void {
    this.#timer = undefined;
    for (const st of this.#sockets) {
      const ws = st.ws;
      if (st.closed || ws === undefined) continue;
      this.relieve(st, ws.getBufferedAmount());
    }
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pause(st: ConnState, c: ConnConflation, buffered: number): void {
    const ws = st.ws;
    if (st.closed || ws === undefined) return;
    let n = 0;
    for (const channel of c.held) {
      // Only channels the socket receives natively: one being recovered is the recovery's.
      if (c.paused.has(channel) || ws.isSubscribed?.(channel) !== true) continue;
      const rec = this.#channels.get(channel);
      if (rec === undefined) continue;
      ws.unsubscribe(channel);
      c.paused.set(channel, { lastSeq: rec.latest?.seq ?? this.#deps.position(channel) ?? 0, count: rec.count });
      n++;
    }
    if (n === 0) return;
    c.slack = Math.max(c.slack, buffered - this.highWaterBytes);
    this.#deps.metrics.conflations.inc();
    this.#deps.log.debug({ conn: st.connId, user: st.sub, channels: n, buffered }, 'conflating slow connection');
  }

  #resume(st: ConnState, c: ConnConflation): void {
    const ws = st.ws;
    if (st.closed || ws === undefined) return;
    const paused = [...c.paused];
    c.paused.clear();
    c.slack = 0;
    const sender = this.#deps.sender();
    let skipped = 0;
    this.#resuming = st;
    try {
      ws.cork(() => {
        for (const [channel, p] of paused) {
          const rec = this.#channels.get(channel);
          const m = rec?.latest;
          if (rec !== undefined && m !== undefined && m.seq > p.lastSeq) {
            skipped += Math.max(0, rec.count - p.count - 1);
            const frame = encodeMsgFrame(channel, m.seq, m.prev, m.data, m.ts, m.id, m.prev > p.lastSeq);
            if (!sender.sendMsg(st, channel, m.seq, frame)) return;
          }
          if (st.closed) return;
          ws.subscribe(channel);
        }
      });
    } finally {
      this.#resuming = undefined;
    }
    if (skipped > 0) this.#deps.metrics.conflatedMessages.inc(skipped);
    this.#deps.log.debug({ conn: st.connId, user: st.sub, channels: paused.length, skipped }, 'conflated connection resumed');
  }
}
