/**
 * A scripted WebSocket server for unit tests: passed to HeraldClient as its `WebSocket`
 * option, it records what the client sends and lets a test open, greet, push frames to and
 * close each connection. Events fire asynchronously (microtasks), as a real socket's do.
 * @module
 */
import type { WebSocketEventLike, WebSocketLike } from '../types.js';

type Listener = (event: WebSocketEventLike) => void;

/** What a new connection does on its own: open and send `welcome`, or fail like a refused upgrade. */
export type Behavior = 'welcome' | 'open' | 'refuse';

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  readonly #listeners = new Map<string, Listener[]>();
  closedBy: { code?: number; reason?: string } | undefined;

  constructor(
    readonly server: FakeServer,
    readonly url: string,
    readonly protocols: string[],
  ) {}

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  #emit(event: WebSocketEventLike): void {
    for (const l of this.#listeners.get(event.type) ?? []) l(event);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedBy = { code, reason };
    if (this.readyState === 3) return;
    this.readyState = 3;
  }

  /** Frames sent with this op. */
  ofOp(op: string): Record<string, unknown>[] {
    return this.sent.filter((f) => f['op'] === op);
  }

  // ---- the server's side ----
  open(): void {
    this.readyState = 1;
    this.#emit({ type: 'open' });
  }

  push(frame: object): void {
    if (this.readyState !== 1) return;
    this.#emit({ type: 'message', data: JSON.stringify(frame) });
  }

  welcome(extra: Record<string, unknown> = {}): void {
    this.push({ op: 'welcome', conn: `c${this.server.sockets.indexOf(this)}`, node: 'n1', user: 'u1', heartbeat: 25_000, epoch: 'e1', ...extra });
  }

  /** Answers the last command of `op` with an ack carrying `fields`. */
  ack(op: string, fields: Record<string, unknown> = {}): void {
    const cmd = this.ofOp(op).at(-1);
    if (cmd === undefined) throw new Error(`no ${op} sent`);
    this.push({ op: 'ack', id: cmd['id'], ...fields });
  }

  /** Acks the last `sub` with ok for each topic (recovered when `since` named it, unless told otherwise). */
  ackSub(recovered = true, seqs: Readonly<Record<string, number>> = {}): void {
    const cmd = this.ofOp('sub').at(-1) as { id: number; topics: string[]; since?: Record<string, number> };
    const results: Record<string, unknown> = {};
    for (const t of cmd.topics) {
      const ch = 'topic:' + t;
      results[ch] = { ok: true, recovered: cmd.since?.[ch] !== undefined && recovered, ...(seqs[ch] !== undefined ? { seq: seqs[ch] } : {}) };
    }
    for (const ch of Object.keys(cmd.since ?? {})) if (ch.startsWith('user:')) results[ch] = { ok: true, recovered };
    this.push({ op: 'ack', id: cmd.id, results });
  }

  msg(ch: string, seq: number, prev: number, data: unknown = seq): void {
    this.push({ op: 'msg', ch, seq, prev, ts: 1_700_000_000_000 + seq, data });
  }

  /** The server closes (a close frame with `code`; 1006 for a dropped connection). */
  serverClose(code: number, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.#emit({ type: 'close', code, reason });
  }

  /** A refused upgrade, as a browser reports it: error, then close 1006. */
  refuse(message = ''): void {
    this.readyState = 3;
    this.#emit({ type: 'error', message });
    this.#emit({ type: 'close', code: 1006, reason: '' });
  }
}

export class FakeServer {
  readonly sockets: FakeSocket[] = [];
  behavior: Behavior = 'welcome';
  welcomeExtra: Record<string, unknown> = {};
  readonly WebSocket: new (url: string, protocols?: string | string[]) => FakeSocket;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(server, url, typeof protocols === 'string' ? [protocols] : (protocols ?? []));
        server.sockets.push(this);
        const behavior = server.behavior;
        // Asynchronous, as a real socket's events are (a microtask: fake timers leave those alone).
        queueMicrotask(() => {
          if (this.readyState === 3) return;
          if (behavior === 'refuse') return this.refuse();
          this.open();
          if (behavior === 'welcome') this.welcome(server.welcomeExtra);
        });
      }
    };
  }

  get last(): FakeSocket {
    const s = this.sockets.at(-1);
    if (s === undefined) throw new Error('no connection yet');
    return s;
  }
}
