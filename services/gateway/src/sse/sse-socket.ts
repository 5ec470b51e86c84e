/** One Server-Sent Events stream behind the WsLike face: frames become events, the event id tracks every channel. */
import { CloseCode } from '@herald/protocol';
import type { HttpResponse } from '@herald/uws';
import { GOING_AWAY_CLOSE } from '../conn/send.js';
import type { ConnState, WsLike } from '../conn/state.js';
import { encodeEventId, eventIdKey } from './event-id.js';
import type { SseRegistry } from './registry.js';

/** `retry:` sent once at the start: the browser's reconnect delay after the stream ends, ms. */
export const SSE_RETRY_MS = 1000;

/** uWS `send` results the Sender understands. */
const SENT = 1;
const BACKPRESSURE = 0;


const HB_TEXT = '{"op":"hb"}';
const HB_EVENT = ': hb\n\n';
/** Written when uWS says the socket drained a bit: makes uWS flush its buffer and tells us whether it emptied. */
const DRAIN_PROBE = ':\n';

/** `data:` lines for a JSON text (JSON.stringify never writes raw line breaks; stored payloads might). */
function dataLines(text: string): string {
  if (!text.includes('\n') && !text.includes('\r')) return 'data: ' + text + '\n';
  return 'data: ' + text.split(/\r\n|\r|\n/).join('\ndata: ') + '\n';
}

/** Event name of a server frame's text: its `op` (`{"op":"refresh",...}` → `refresh`). */
function opOf(text: string): string {
  const start = '{"op":"'.length;
  if (!text.startsWith('{"op":"')) return 'message';
  const end = text.indexOf('"', start);
  return end > start ? text.slice(start, end) : 'message';
}

// The fan-out hands the same frame string to every stream of a channel: its event tail
// (`event: msg` + `data:`) is encoded to bytes once, then written to each stream after
// that stream's own `id:` line.
let memoFrame: string | undefined;
let memoTail: Buffer = Buffer.alloc(0);
function msgTail(frame: string): Buffer {
  if (frame !== memoFrame) {
    memoTail = Buffer.from('event: ' + opOf(frame) + '\n' + dataLines(frame) + '\n', 'utf8'); // `msg`, or `inbox`
    memoFrame = frame;
  }
  return memoTail;
}

export interface SseSocketDeps {
  readonly registry: Pick<SseRegistry, 'add' | 'remove'>;
  /** History epoch written into every event id. */
  readonly epoch: string;
  /** Every channel of the stream, the personal one first. */
  readonly channels: readonly string[];
  /** Runs once when the stream ends for any reason (the lifecycle's close: release everything). Never writes. */
  readonly onClose: (code: number) => void;
}

const OPEN = 0;
const ENDED = 1;
const ABORTED = 2;

/**
 * Implements the part of a uWS WebSocket the gateway uses, so the sweep (hb, refresh,
 * 4001, backpressure), drain, control and recovery treat an SSE stream like a socket:
 * `send` writes a frame as `event: <op>` (`hb` as the comment `: hb`), `sendMsg` writes
 * `id:` + `event: msg`, `end(code, reason)` writes `event: close` and ends the response,
 * `subscribe` registers the stream for fan-out. After `end` or an abort nothing touches
 * the response again (uWS throws on any access then).
 *
 * Backpressure: uWS exposes no buffered amount for HTTP responses. `res.write` returning
 * false means uWS now buffers; from then on every byte written counts as buffered until a
 * write (or the drain probe written from onWritable) succeeds, which means uWS's buffer
 * emptied. This over-counts a stream that drains slowly while it keeps receiving, which errs
 * towards closing it as a slow consumer (it reconnects and recovers).
 */
export class SseSocket implements WsLike {
  readonly #res: HttpResponse;
  readonly #st: ConnState;
  readonly #deps: SseSocketDeps;
  /** JSON-quoted keys (`"topic:news":`) and the last seq the client holds, per channel, in stream order. */
  readonly #keys: string[];
  readonly #seqs: number[];
  readonly #index = new Map<string, number>();
  /** Channels this stream is registered on for fan-out. */
  readonly #live = new Set<string>();
  #pending = 0;
  #state = OPEN;

  constructor(res: HttpResponse, st: ConnState, deps: SseSocketDeps) {
    this.#res = res;
    this.#st = st;
    this.#deps = deps;
    this.#keys = deps.channels.map(eventIdKey);
    this.#seqs = deps.channels.map(() => 0);
    deps.channels.forEach((ch, i) => this.#index.set(ch, i));
  }

  get isOpen(): boolean {
    return this.#state === OPEN;
  }

  /** Raises the position of a channel (a message sent, or where the stream starts on it). */
  advance(channel: string, seq: number): void {
    const i = this.#index.get(channel);
    if (i !== undefined && seq > (this.#seqs[i] as number)) this.#seqs[i] = seq;
  }

  /** The current event id: the epoch and every channel's position. */
  eventId(): string {
    return encodeEventId(this.#deps.epoch, this.#keys, this.#seqs);
  }

  /** Status line, headers, `retry:`, and the `welcome` event with the starting position. Call corked, once. */
  start(headers: readonly (readonly [string, string])[], welcomeJson: string): void {
    const res = this.#res;
    res.writeStatus('200 OK');
    for (const [k, v] of headers) res.writeHeader(k, v);
    res.onWritable(() => this.#onWritable());
    this.#write(`retry: ${SSE_RETRY_MS}\nid: ${this.eventId()}\nevent: welcome\n${dataLines(welcomeJson)}\n`);
  }

  /** A frame other than `msg` (welcome is written by `start`): `event: <op>`, or the `: hb` comment. */
  send(text: string): number {
    if (this.#state !== OPEN) return SENT;
    const event = text === HB_TEXT ? HB_EVENT : 'event: ' + opOf(text) + '\n' + dataLines(text) + '\n';
    return this.#corked(event, undefined);
  }

  /** A `msg` frame of `channel` at `seq`: `id:` with the new positions, then the shared `event: msg` tail. */
  sendMsg(channel: string, seq: number, frame: string): number {
    if (this.#state !== OPEN) return SENT;
    this.advance(channel, seq);
    return this.#corked('id: ' + this.eventId() + '\n', msgTail(frame));
  }

  /** Bytes uWS may still hold for this stream (see the class comment). */
  getBufferedAmount(): number {
    return this.#pending;
  }

  /**
   * Ends the stream: `event: close` with the code and reason, then the end of the response.
   * A slow consumer (4008) gets nothing more: the connection is cut at once, which frees
   * uWS's buffer now rather than when the client reads it. Runs the close callback
   * synchronously, as uWS's `end` runs the WebSocket close handler.
   */
  end(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#state !== OPEN) return;
    this.#state = ENDED;
    this.#leaveAll();
    const res = this.#res;
    if (code === CloseCode.SlowConsumer) res.close(); // runs onAborted synchronously: ignored, the state is ENDED
    else {
      const close = 'event: close\n' + dataLines(JSON.stringify({ op: 'close', code, reason })) + '\n';
      res.cork(() => {
        res.write(close);
        res.end();
      });
    }
    this.#deps.onClose(code);
  }

  /** The client went away (uWS onAborted). Never writes. */
  aborted(): void {
    if (this.#state !== OPEN) return;
    this.#state = ABORTED;
    this.#leaveAll();
    this.#deps.onClose(GOING_AWAY_CLOSE); // counted as the client going away (uWS onAborted)
  }

  subscribe(channel: string): boolean {
    if (this.#state !== OPEN || this.#live.has(channel)) return false;
    this.#live.add(channel);
    this.#deps.registry.add(channel, this.#st);
    return true;
  }

  unsubscribe(channel: string): boolean {
    if (!this.#live.delete(channel)) return false;
    return this.#deps.registry.remove(channel, this.#st);
  }

  cork(cb: () => void): this {
    if (this.#state === OPEN) this.#res.cork(cb);
    else cb();
    return this;
  }

  #leaveAll(): void {
    for (const channel of this.#live) this.#deps.registry.remove(channel, this.#st);
    this.#live.clear();
  }

  #corked(head: string, tail: Buffer | undefined): number {
    let ok = true;
    this.#res.cork(() => {
      ok = this.#write(head);
      if (tail !== undefined) ok = this.#write(tail);
    });
    return ok ? SENT : BACKPRESSURE;
  }

  #write(chunk: string | Buffer): boolean {
    const ok = this.#res.write(chunk);
    if (ok) this.#pending = 0;
    else this.#pending += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return ok;
  }

  /**
   * uWS calls this when a backpressured socket can take more. With a handler registered,
   * uWS leaves draining its buffer to us: a two-byte comment line makes it flush, and
   * tells whether the buffer emptied (then nothing is pending any more).
   */
  #onWritable(): boolean {
    if (this.#state !== OPEN) return true;
    let ok = true;
    this.#res.cork(() => {
      ok = this.#write(DRAIN_PROBE);
    });
    return ok;
  }
}
