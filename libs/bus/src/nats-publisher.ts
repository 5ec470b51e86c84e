/**
 * JetStream publishes at the cost of a core NATS publish: the hot path of the publish API.
 *
 * The JetStream client's `publish` is a NATS request: per message a promise, a timer, a
 * request object with its own Error for context, a header object, and one socket write
 * (the client flushes at the end of each microtask checkpoint, and every HTTP request the
 * publish API serves is its own checkpoint). Here, through the NATS client's public API:
 * - one reply subscription (`<inbox>.*`) for every acknowledgement, matched by token;
 * - one sweep timer for every timeout (acknowledgements are awaited in issue order, so the
 *   oldest pending is always the first to expire), started at the first publish, kept until close;
 * - one header object shared by the messages without id or request context of a millisecond;
 * - the usual acknowledgement read from its bytes (readAck), JSON only for any other;
 * - publishes issued in the same event-loop turn leave together: they are queued and
 *   handed to the client in one block at `setImmediate`, which the client writes as one
 *   socket write (HTTP requests read in one poll of the loop share it);
 * - with a linger (lingerMs > 0), while publishes keep coming (the last flush was less than
 *   lingerMs ago) the next block waits until lingerMs after it: at 3,000 lone HTTP publishes
 *   a second a 1 ms linger puts several in each write, and nats-server then stores, answers
 *   and republishes them together (measured: docs/operations.md, "Publish linger"). An idle
 *   publisher still sends at the end of the turn.
 * The guarantees are JetStream's: the acknowledgement names the stream and the seq the
 * message was stored with (`duplicate` when the `Nats-Msg-Id` was seen in the window),
 * `Nats-Expected-Stream` makes the server refuse a subject another stream holds, and a
 * missing acknowledgement (no stream, no leader, timeout, closed connection) rejects.
 * @module
 */
import { createInbox, headers, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { MessageTrace } from './bus.js';
import { BusError } from './errors.js';
import { setTraceHeaders, traceHasLineBreak } from './live-headers.js';
import { HDR_ID, HDR_TS } from './nats-stream.js';

/** What JetStream answered for a stored message. */
export interface PubAck {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** One message to store. */
export interface JsMessage {
  readonly subject: string;
  readonly data: string;
  /** Herald's idempotency key (header `Herald-Id`), when given. */
  readonly id?: string;
  /** `Nats-Msg-Id` (JetStream dedupe), when given. */
  readonly msgId?: string;
}

interface Pending {
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
  /** ms since the Unix epoch after which the publish fails. */
  readonly deadline: number;
}

interface Queued {
  readonly m: JsMessage;
  readonly token: string;
  /** The request context, when the publish had one. */
  readonly trace: MessageTrace | undefined;
}

/** Header names JetStream reads on a publish. */
const HDR_MSG_ID = 'Nats-Msg-Id';
const HDR_EXPECTED_STREAM = 'Nats-Expected-Stream';
/** A status reply (no stream listens on the subject) has no body. */
const NO_RESPONDERS = 503;
/** A header value may not hold CR or LF (it would end the header; the client's header map throws on it). */
const LINE_BREAK = /[\r\n]/;
/** Upper bound of publishes queued for the next flush: beyond it the queue is flushed at once. */
const MAX_QUEUED = 1024;

/** An acknowledgement body: `{"stream","seq","duplicate"?}` or `{"error":{"code","err_code","description"}}`. */
interface AckBody {
  stream?: unknown;
  seq?: unknown;
  duplicate?: unknown;
  error?: { code?: unknown; err_code?: unknown; description?: unknown };
}

/**
 * The bytes an acknowledgement of `stream` starts with: nats-server 2.9 to 2.11 write
 * `{"stream":"<name>", "seq":` (with the space); the form without it is accepted too.
 */
export function ackPrefixOf(stream: string): readonly Uint8Array[] {
  const name = JSON.stringify(stream);
  return [`{"stream":${name}, "seq":`, `{"stream":${name},"seq":`].map((t) => new TextEncoder().encode(t));
}

const DUPLICATE_TAILS = [',"duplicate": true}', ',"duplicate":true}'].map((t) => new TextEncoder().encode(t));
const CLOSE_BRACE = 0x7d;
/** Longest seq read here (exact as a double); a longer one takes the JSON path. */
const MAX_FAST_DIGITS = 15;

function startsWith(data: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (data.length - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * The acknowledgement as nats-server writes it for a publish without JetStream domain,
 * `{"stream":"<stream>", "seq":<n>}` or `…,"duplicate": true}`, read from its bytes (no text
 * decoding, no JSON.parse); undefined for anything else (an error, another stream, a domain,
 * other fields, a seq of 0 or over 15 digits), which the JSON path then reads and judges.
 */
export function readAck(data: Uint8Array, prefixes: readonly Uint8Array[]): PubAck | undefined {
  let n = -1;
  for (const p of prefixes) {
    if (startsWith(data, p, 0)) {
      n = p.length;
      break;
    }
  }
  if (n < 0) return undefined;
  let seq = 0;
  let i = n;
  for (; i < data.length && i - n < MAX_FAST_DIGITS; i++) {
    const d = (data[i] as number) - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
  }
  if (i === n || !(seq > 0) || data[n] === 0x30) return undefined;
  const rest = data.length - i;
  if (rest === 1 && data[i] === CLOSE_BRACE) return { seq, duplicate: false };
  for (const tail of DUPLICATE_TAILS) if (rest === tail.length && startsWith(data, tail, i)) return { seq, duplicate: true };
  return undefined;
}

export class JetStreamPublisher {
  readonly #nc: NatsConnection;
  readonly #stream: string;
  readonly #timeoutMs: number;
  /** `<inbox>.`: the reply subject of a publish is this plus its token. */
  readonly #replyPrefix: string;
  readonly #sub: Subscription;
  /** Pending acknowledgements by token, in issue order (so in deadline order). */
  readonly #pending = new Map<string, Pending>();
  #queue: Queued[] = [];
  #flushScheduled = false;
  #sweep: NodeJS.Timeout | undefined;
  #next = 0;
  #closed = false;
  /** The first bytes of this stream's acknowledgements (readAck). */
  readonly #ackPrefix: readonly Uint8Array[];
  /** The shared headers of plain messages, for one time stamp (#plainHeaders). */
  #plain: { readonly ts: string; readonly h: MsgHdrs } | undefined;
  /** Publishes arriving within this many ms of the last flush wait for the next one (0: never wait). */
  readonly #lingerMs: number;
  /** performance.now() of the last flush. */
  #lastFlushAt = -Infinity;

  constructor(nc: NatsConnection, stream: string, timeoutMs: number, lingerMs = 0) {
    this.#nc = nc;
    this.#lingerMs = lingerMs;
    this.#stream = stream;
    this.#timeoutMs = timeoutMs;
    this.#replyPrefix = createInbox() + '.';
    this.#ackPrefix = ackPrefixOf(stream);
    this.#sub = nc.subscribe(this.#replyPrefix + '*', { callback: (err, msg) => { if (!err) this.#onReply(msg); } });
  }

  /**
   * Stores one message; resolves with its seq once JetStream acknowledged it. Rejects with
   * BusError 'unavailable' when it was not stored (not sent, no stream, refused), 'timeout' when
   * it may have been (sent, no readable acknowledgement in time), 'closed' when the bus closed.
   * `trace` (validated by the publish API) becomes the headers of live-headers.ts; absent: no header work.
   */
  publish(m: JsMessage, trace?: MessageTrace): Promise<PubAck> {
    if (this.#closed) return Promise.reject(new BusError('closed', 'bus is closed'));
    // refused here, not where the headers are built (in the flush, where a throw would end the process)
    if ((m.id !== undefined && LINE_BREAK.test(m.id)) || (m.msgId !== undefined && LINE_BREAK.test(m.msgId))) {
      return Promise.reject(new BusError('invalid', 'a publish id may not hold CR or LF'));
    }
    if (trace !== undefined && traceHasLineBreak(trace)) return Promise.reject(new BusError('invalid', 'a request id or trace context may not hold CR or LF'));
    const token = (this.#next++).toString(36);
    const p = new Promise<PubAck>((resolve, reject) => {
      this.#pending.set(token, { resolve, reject, deadline: Date.now() + this.#timeoutMs });
    });
    this.#queue.push({ m, token, trace });
    if (this.#queue.length >= MAX_QUEUED) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      const since = this.#lingerMs > 0 ? performance.now() - this.#lastFlushAt : Infinity;
      // busy: the window since the last flush closes first; idle: out at the end of this turn
      if (since < this.#lingerMs) setTimeout(this.#flushLater, this.#lingerMs - since);
      else setImmediate(this.#flushLater);
    }
    this.#sweep ??= setInterval(this.#expire, Math.max(20, Math.min(1000, this.#timeoutMs / 10))).unref();
    return p;
  }

  /** Rejects every pending publish and stops listening for acknowledgements. */
  close(): void {
    this.#closed = true;
    this.#flushScheduled = false;
    this.#queue = [];
    this.#failAll(new BusError('closed', 'bus is closed'));
    if (!this.#nc.isClosed() && !this.#sub.isClosed()) this.#sub.unsubscribe();
  }

  readonly #flushLater = (): void => {
    if (!this.#flushScheduled) return;
    this.#flush();
  };

  /** Hands every queued publish to the client in one synchronous block (one socket write). */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#lingerMs > 0) this.#lastFlushAt = performance.now();
    const queue = this.#queue;
    this.#queue = [];
    const ts = String(Date.now());
    for (const { m, token, trace } of queue) {
      const plain = m.id === undefined && m.msgId === undefined && trace === undefined;
      const h = plain ? this.#plainHeaders(ts) : headers();
      if (!plain) {
        h.set(HDR_TS, ts);
        h.set(HDR_EXPECTED_STREAM, this.#stream);
        if (m.id !== undefined) h.set(HDR_ID, m.id);
        if (m.msgId !== undefined) h.set(HDR_MSG_ID, m.msgId);
        if (trace !== undefined) setTraceHeaders(h, trace);
      }
      try {
        this.#nc.publish(m.subject, m.data, { reply: this.#replyPrefix + token, headers: h });
      } catch (err) {
        // closed connection, payload over the server's limit: this one is not stored
        this.#settle(token)?.reject(new BusError('unavailable', 'JetStream publish not sent', { cause: err }));
      }
    }
  }

  /**
   * The headers of a message with no id and no request context (the time stamp and the stream
   * only): one object per time stamp, shared. The client encodes headers inside `publish`
   * and keeps no reference, so sharing is safe; nobody mutates it after it is built.
   */
  #plainHeaders(ts: string): MsgHdrs {
    if (this.#plain === undefined || this.#plain.ts !== ts) {
      const h = headers();
      h.set(HDR_TS, ts);
      h.set(HDR_EXPECTED_STREAM, this.#stream);
      this.#plain = { ts, h };
    }
    return this.#plain.h;
  }

  #onReply(msg: Msg): void {
    const token = msg.subject.slice(this.#replyPrefix.length);
    const pending = this.#settle(token);
    if (pending === undefined) return; // expired already, or not ours
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      const why = code === NO_RESPONDERS ? 'no JetStream stream answered (no responders)' : `JetStream answered status ${code}`;
      pending.reject(new BusError('unavailable', why));
      return;
    }
    const fast = readAck(msg.data, this.#ackPrefix);
    if (fast !== undefined) {
      pending.resolve(fast);
      return;
    }
    let body: AckBody;
    try {
      body = msg.json<AckBody>();
    } catch (err) {
      pending.reject(new BusError('timeout', 'unreadable JetStream acknowledgement: the message may be stored', { cause: err }));
      return;
    }
    if (body.error !== undefined) {
      pending.reject(new BusError('unavailable', `JetStream refused the publish: ${String(body.error.description ?? body.error.err_code ?? body.error.code)}`));
      return;
    }
    if (body.stream !== this.#stream || typeof body.seq !== 'number' || !(body.seq > 0)) {
      pending.reject(new BusError('timeout', 'invalid JetStream acknowledgement: the message may be stored'));
      return;
    }
    pending.resolve({ seq: body.seq, duplicate: body.duplicate === true });
  }

  #settle(token: string): Pending | undefined {
    const pending = this.#pending.get(token);
    if (pending !== undefined) this.#pending.delete(token);
    // The sweep timer stays (unref'd) until close: stopping it whenever nothing was pending cost
    // a timer start and stop per publish at low rates.
    return pending;
  }

  /** Fails the publishes whose deadline passed: the oldest first, stopping at the first still in time. */
  readonly #expire = (): void => {
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.deadline > now) break;
      this.#settle(token);
      // sent and perhaps stored: the answer must not say "nothing was stored"
      pending.reject(new BusError('timeout', `JetStream did not acknowledge the publish within ${this.#timeoutMs} ms`));
    }
  };

  #failAll(err: BusError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
    for (const p of all) p.reject(err);
  }
}
