/** A raw HTTP Server-Sent Events client for tests (node:http and a spec-following parser; not an EventSource). */
import { request, type ClientRequest, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import type { MsgFrame } from '@herald/protocol';

/** One dispatched event, as EventSource would hand it over. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  /** The last event id at dispatch (EventSource's `lastEventId`). */
  readonly id: string;
  /** `data` parsed as JSON (undefined when it is not JSON). */
  readonly json: Record<string, unknown> | undefined;
}

export interface SseOptions {
  readonly token?: string;
  /** How the token travels; default `query` (what a browser must do). */
  readonly via?: 'query' | 'header';
  readonly topics?: readonly string[];
  /** Sent as the `Last-Event-ID` header (EventSource's own reconnect). */
  readonly lastEventId?: string;
  /** Extra query parameters (`lastEventId`, raw `topics`, ...). */
  readonly query?: Readonly<Record<string, string>>;
  readonly origin?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An answer that is not a stream: the status, headers and body of a refusal. */
export interface SseRefusal {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: { error: { code: string; message: string } } | undefined;
}

export class SseTestClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Every byte of the body as text. */
  raw = '';
  retry: number | undefined;
  lastEventId = '';
  /** 'end' when the server ended the response, 'aborted' when the connection broke. */
  readonly ended: Promise<'end' | 'aborted'>;
  #endedAs: 'end' | 'aborted' | undefined;
  #partial = '';
  #type = '';
  #data: string[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly res: IncomingMessage,
    readonly req: ClientRequest,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.#feed(chunk));
    this.ended = new Promise((resolve) => {
      const done = (how: 'end' | 'aborted'): void => {
        if (this.#endedAs !== undefined) return;
        this.#endedAs = how;
        resolve(how);
        this.#wake();
      };
      res.on('end', () => done('end'));
      res.on('aborted', () => done('aborted'));
      res.on('error', () => done('aborted'));
      res.on('close', () => done(res.complete ? 'end' : 'aborted'));
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  get endedAs(): 'end' | 'aborted' | undefined {
    return this.#endedAs;
  }

  /** Events of one type. */
  of(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** `msg` frames, of one channel when given. */
  msgs(ch?: string): MsgFrame[] {
    return this.of('msg')
      .map((e) => e.json as unknown as MsgFrame)
      .filter((m) => ch === undefined || m.ch === ch);
  }

  /** Resolves with the first event (from index `from`) that matches; rejects on timeout or when the stream ends first. */
  waitEvent(pred: (e: SseEvent) => boolean, timeoutMs = 5000, from = 0): Promise<SseEvent> {
    return this.#wait(() => this.events.slice(from).find(pred), timeoutMs, 'event');
  }

  /** Resolves once `n` messages of `ch` arrived. */
  waitMessages(ch: string, n: number, timeoutMs = 5000): Promise<MsgFrame[]> {
    return this.#wait(() => {
      const got = this.msgs(ch);
      return got.length >= n ? got : undefined;
    }, timeoutMs, `${n} messages on ${ch}`);
  }

  /** Resolves once a comment line matching `text` arrived. */
  waitComment(text: string, count = 1, timeoutMs = 5000): Promise<void> {
    return this.#wait(() => (this.comments.filter((c) => c === text).length >= count ? true : undefined), timeoutMs, `comment ${text}`).then(() => undefined);
  }

  /** Stops reading: the kernel buffers fill, then the server's. */
  pause(): void {
    this.res.pause();
  }

  /** Drops the connection (a browser closing the page, or EventSource.close()). */
  close(): void {
    this.req.destroy();
  }

  #wait<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = probe();
        if (v !== undefined) {
          resolve(v);
          return true;
        }
        if (this.#endedAs !== undefined) {
          reject(new Error(`stream ended (${this.#endedAs}) while waiting for ${what}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const waiter = (): void => {
        if (check()) {
          this.#waiters.delete(waiter);
          clearTimeout(timer);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** The parser of the HTML spec's "event stream interpretation" (lines end with CRLF, LF or CR). */
  #feed(chunk: string): void {
    this.raw += chunk;
    const text = this.#partial + chunk;
    const lines = text.split(/\r\n|\r|\n/);
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
    this.#wake();
  }

  #line(line: string): void {
    if (line.length === 0) {
      if (this.#data.length > 0) {
        const data = this.#data.join('\n');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(data) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        this.events.push({ event: this.#type || 'message', data, id: this.lastEventId, json });
      }
      this.#type = '';
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line);
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}

/** Opens `GET /v1/sse`: a live client on 200, else the refusal with its body. */
export function openSse(httpUrl: string, opts: SseOptions = {}): Promise<SseTestClient | SseRefusal> {
  const url = new URL('/v1/sse', httpUrl);
  if (opts.topics !== undefined) url.searchParams.set('topics', opts.topics.join(','));
  if (opts.token !== undefined && (opts.via ?? 'query') === 'query') url.searchParams.set('token', opts.token);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...opts.headers };
  if (opts.token !== undefined && opts.via === 'header') headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  if (opts.origin !== undefined) headers['origin'] = opts.origin;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode === 200) return resolve(new SseTestClient(res, req));
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        let json: SseRefusal['json'];
        try {
          json = JSON.parse(body) as SseRefusal['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.end();
  });
}

/** A stream that must open (throws with the refusal otherwise). */
export async function connectSse(httpUrl: string, opts: SseOptions = {}): Promise<SseTestClient> {
  const r = await openSse(httpUrl, opts);
  if (!(r instanceof SseTestClient)) throw new Error(`SSE refused: ${r.status} ${r.body}`);
  return r;
}

/** A request that must be refused. */
export async function refusedSse(httpUrl: string, opts: SseOptions = {}): Promise<SseRefusal> {
  const r = await openSse(httpUrl, opts);
  if (r instanceof SseTestClient) {
    r.close();
    throw new Error('SSE stream opened, a refusal was expected');
  }
  return r;
}

/** Decodes an event id (`<epoch>~<base64url JSON>`) for assertions. */
export function decodeEventId(id: string): { epoch: string; seqs: Record<string, number> } {
  const at = id.lastIndexOf('~');
  return { epoch: id.slice(0, at), seqs: JSON.parse(Buffer.from(id.slice(at + 1), 'base64url').toString('utf8')) as Record<string, number> };
}
