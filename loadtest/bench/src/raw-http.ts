/**
 * A minimal HTTP/1.1 POST client for the publisher: a pool of keep-alive sockets, one
 * request in flight per socket, the request head built once, responses framed by
 * Content-Length (or chunked, as Node's http server answers). Node's http client costs the
 * load side about 100 µs per request, enough to make the publisher, not the server, the
 * limit of a per-user capacity search on a 2-core machine; this costs about half.
 * @module
 */
import { connect, type Socket } from 'node:net';

/** Outcome of one request: the status code, or an error text. */
export type Outcome = { status: number } | { error: string };

interface Conn {
  socket: Socket;
  /** Unparsed response bytes. */
  buf: Buffer;
  /** Requests answered on this socket. */
  served: number;
  /** The request in flight on this socket. */
  busy: { body: string; startedAt: number; gotBytes: boolean; mayRetry: boolean; done: (o: Outcome) => void } | undefined;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:\s*chunked/i;

/** End offset of a chunked body (no trailers) starting at `from`; -1 while incomplete. */
function chunkedEnd(buf: Buffer, from: number): number {
  let pos = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return -1;
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!(size >= 0)) return -2;
    pos = eol + 2 + size + 2;
    if (size === 0) return pos <= buf.length ? pos : -1;
    if (pos > buf.length) return -1;
  }
}

export class RawHttpPool {
  readonly #host: string;
  readonly #port: number;
  readonly #head: string;
  readonly #timeoutMs: number;
  readonly #idle: Conn[] = [];
  readonly #all = new Set<Conn>();
  readonly #sweep: NodeJS.Timeout;

  constructor(url: URL, headers: Record<string, string>, timeoutMs: number) {
    this.#host = url.hostname;
    this.#port = Number(url.port || 80);
    const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.#head = lines.join('\r\n') + '\r\ncontent-length: ';
    this.#timeoutMs = timeoutMs;
    // one timer for every request's timeout
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const c of this.#all) if (c.busy && now - c.busy.startedAt > this.#timeoutMs) c.socket.destroy(new Error('timeout'));
    }, 500);
  }

  /** Sends `body`; `done` gets the status (or an error). A reused socket the server closed before answering is retried once. */
  post(body: string, done: (o: Outcome) => void, mayRetry = true): void {
    const c = this.#idle.pop() ?? this.#open();
    c.busy = { body, startedAt: performance.now(), gotBytes: false, mayRetry, done };
    c.socket.write(this.#head + Buffer.byteLength(body) + '\r\n\r\n' + body);
  }

  close(): void {
    clearInterval(this.#sweep);
    for (const c of this.#all) c.socket.destroy();
    this.#all.clear();
    this.#idle.length = 0;
  }

  #open(): Conn {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    const c: Conn = { socket, buf: Buffer.alloc(0), served: 0, busy: undefined };
    this.#all.add(c);
    socket.on('data', (d: Buffer) => this.#onData(c, d));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => this.#onClose(c, 'connection closed'));
    return c;
  }

  #onData(c: Conn, d: Buffer): void {
    if (c.busy) c.busy.gotBytes = true;
    c.buf = c.buf.length === 0 ? d : Buffer.concat([c.buf, d]);
    const end = c.buf.indexOf(HEAD_END);
    if (end < 0) return;
    const head = c.buf.subarray(0, end).toString('latin1');
    const m = CONTENT_LENGTH.exec(head);
    const total = m ? end + 4 + Number(m[1]) : CHUNKED.test(head) ? chunkedEnd(c.buf, end + 4) : -2;
    if (total === -2) { c.socket.destroy(); this.#finish(c, { error: 'response framed neither by content-length nor chunked' }); return; }
    if (total < 0 || c.buf.length < total) return;
    const status = Number(head.slice(9, 12));
    c.buf = c.buf.subarray(total);
    this.#finish(c, { status });
    if (!c.socket.destroyed) this.#idle.push(c);
  }

  #onClose(c: Conn, why: string): void {
    this.#all.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
    const busy = c.busy;
    if (!busy) return;
    c.busy = undefined;
    // never answered on a socket that was idle before: the server closed it first, nothing was processed
    if (busy.mayRetry && !busy.gotBytes && c.served > 0) this.post(busy.body, busy.done, false);
    else busy.done({ error: c.socket.errored?.message ?? why });
  }

  #finish(c: Conn, o: Outcome): void {
    const busy = c.busy;
    c.busy = undefined;
    c.served++;
    busy?.done(o);
  }
}
