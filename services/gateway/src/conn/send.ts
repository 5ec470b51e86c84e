/** Direct sends to one socket: every send checks the result and the buffered bytes, and closes slow consumers with 4008. */
import { CloseCode, MAX_CLOSE_REASON_BYTES, encodeServerFrame, type ServerFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import type { ConnState, WsLike } from './state.js';

/**
 * RFC 6455 "going away": a plain shutdown (not a drain), and a client that left an SSE stream.
 * Not in the contract's CloseCode table: clients never act on it differently from a drop.
 */
export const GOING_AWAY_CLOSE = 1001;

/** uWS `send` results. */
const SEND_SENT = 1;
const SEND_DROPPED = 2;

/** Cuts a close reason to RFC 6455's 123 bytes without splitting a character. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export interface SenderDeps {
  /** WS_MAX_BACKPRESSURE_BYTES: above it a socket is a slow consumer. */
  readonly maxBackpressureBytes: number;
  readonly metrics: Pick<GatewayMetrics, 'slowConsumers'>;
  /** Ask uWS to deflate direct sends (only sockets that negotiated permessage-deflate get it compressed). */
  readonly compress?: boolean;
  /** The `ws` component logger. */
  readonly log: Logger;
  /**
   * Conflation (hub/conflation.ts), asked whenever a connection holding a conflated topic
   * has bytes buffered: it may pause or resume the connection, and returns how many bytes its
   * 4008 limit is raised by. Absent: no conflation.
   */
  readonly relief?: BackpressureRelief;
}

/** See SenderDeps.relief. */
export interface BackpressureRelief {
  relieve(st: ConnState, buffered: number): number;
}

/**
 * The one way to write to a socket outside the fan-out. uWS may also skip a socket in
 * `app.publish` once it passes uWS's own maxBackpressure; the keepalive sweep calls
 * `checkBackpressure` so that such a socket is closed with 4008 rather than silently
 * missing messages.
 */
export class Sender {
  readonly #limit: number;
  readonly #metrics: SenderDeps['metrics'];
  readonly #log: Logger;
  readonly #compress: boolean;
  readonly #relief: BackpressureRelief | undefined;

  constructor(deps: SenderDeps) {
    this.#compress = deps.compress === true;
    this.#relief = deps.relief;
    this.#limit = deps.maxBackpressureBytes;
    this.#metrics = deps.metrics;
    this.#log = deps.log;
  }

  /** Encodes and sends a frame; false when the socket is gone or was just closed as slow. */
  send(st: ConnState, frame: ServerFrame): boolean {
    return this.sendText(st, encodeServerFrame(frame));
  }

  /** Sends pre-encoded frame text. */
  sendText(st: ConnState, text: string): boolean {
    const ws = st.ws;
    if (st.closed || ws === undefined) return false;
    return this.#sent(st, ws, ws.send(text, false, this.#compress));
  }

  /**
   * Sends an encoded `msg` frame of `channel` at `seq` (replay, recovery catch-up, and the
   * SSE fan-out). An SSE stream writes it with its event id; a WebSocket just sends it.
   */
  sendMsg(st: ConnState, channel: string, seq: number, frame: string): boolean {
    const ws = st.ws;
    if (st.closed || ws === undefined) return false;
    return this.#sent(st, ws, ws.sendMsg === undefined ? ws.send(frame, false, this.#compress) : ws.sendMsg(channel, seq, frame));
  }

  /** Closes the socket with 4008 when its buffer passed the limit; false when it did. */
  checkBackpressure(st: ConnState): boolean {
    const ws = st.ws;
    if (st.closed || ws === undefined) return false;
    const buffered = ws.getBufferedAmount();
    if (this.#withinLimit(st, buffered)) return true;
    if (!st.closed) this.#closeSlow(st, buffered);
    return false;
  }

  /** Closes with a code and reason (the close handler runs synchronously inside). */
  close(st: ConnState, code: number, reason: string): void {
    const ws = st.ws;
    if (st.closed || ws === undefined) return;
    ws.end(code, closeReason(reason));
  }

  #sent(st: ConnState, ws: WsLike, result: number): boolean {
    st.lastSendAt = Date.now();
    if (result === SEND_SENT) return true;
    const buffered = ws.getBufferedAmount();
    if (result !== SEND_DROPPED && this.#withinLimit(st, buffered)) return true;
    if (!st.closed) this.#closeSlow(st, buffered);
    return false;
  }

  /** Within WS_MAX_BACKPRESSURE_BYTES, raised by conflation's slack for a connection paused on conflated topics. */
  #withinLimit(st: ConnState, buffered: number): boolean {
    const extra = st.conflate === undefined || this.#relief === undefined ? 0 : this.#relief.relieve(st, buffered);
    return buffered <= this.#limit + extra;
  }

  #closeSlow(st: ConnState, buffered: number): void {
    this.#metrics.slowConsumers.inc();
    this.#log.warn({ conn: st.connId, user: st.sub, code: CloseCode.SlowConsumer, buffered }, 'closing slow consumer');
    this.close(st, CloseCode.SlowConsumer, 'slow consumer');
  }
}
