/** Crowds of raw WebSocket clients reconnecting with full jitter, as the SDK does. */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';

/** Full jitter, as the SDK's backoff.ts: attempt n waits random(0, min(cap, base·2^n)). */
export function fullJitter(attempt: number, baseMs: number, capMs: number): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)));
}

/**
 * A cheap client for crowds: a raw `ws` socket that subscribes to its topics, reconnects
 * after a drop with the SDK's full-jitter backoff (same base and cap as startClient), and on
 * a refused upgrade waits at least the `Retry-After` the gateway sent. It does not recover or
 * record messages (the SDK clients of a test do that); it only counts them.
 */
export class RawClient {
  /** Time and node of every `welcome`. */
  readonly welcomes: { at: number; node: string }[] = [];
  /** HTTP status → refused upgrades. */
  readonly refusals = new Map<number, number>();
  /** Refusals with a Retry-After, and the retries it made wait longer than the backoff. */
  retryAfterSeen = 0;
  retryAfterStretched = 0;
  messages = 0;
  /** When each socket closed, and when each connection attempt began. */
  readonly drops: number[] = [];
  readonly attempts: number[] = [];
  #ws: WebSocket | undefined;
  #attempt = 0;
  #live = false;
  #subscribed = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onSubscribed: (() => void) | undefined;

  constructor(
    readonly wsUrl: string,
    readonly token: string,
    readonly topics: readonly string[],
    readonly opts: { baseMs: number; capMs: number } = { baseMs: 100, capMs: 2000 },
  ) {}

  /** Welcomed and subscribed on an open socket. */
  get live(): boolean {
    return this.#live && this.#subscribed;
  }

  /** Connects; resolves once the first subscription was acked. */
  start(): Promise<void> {
    const p = new Promise<void>((r) => (this.#onSubscribed = r));
    this.#open();
    return p;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.terminate();
  }

  #open(): void {
    if (this.#closed) return;
    let retryAfterMs = 0;
    this.attempts.push(Date.now());
    const ws = (this.#ws = new WebSocket(this.wsUrl, ['herald.v1', `herald.bearer.${this.token}`], { perMessageDeflate: false, handshakeTimeout: 10_000 }));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      this.refusals.set(status, (this.refusals.get(status) ?? 0) + 1);
      const ra = Number(res.headers['retry-after']);
      if (ra > 0) {
        this.retryAfterSeen++;
        retryAfterMs = ra * 1000;
      }
      res.resume();
      ws.terminate(); // aborts the handshake: `error`, then `close`
    });
    ws.on('error', () => undefined);
    ws.on('message', (d) => {
      if (this.#subscribed) {
        this.messages++;
        return;
      }
      const f = JSON.parse(String(d)) as { op: string; node?: string; id?: unknown };
      if (f.op === 'welcome') {
        this.#live = true;
        this.#attempt = 0;
        this.welcomes.push({ at: Date.now(), node: String(f.node) });
        ws.send(JSON.stringify({ op: 'sub', id: 1, topics: this.topics }));
      } else if (f.op === 'ack' && f.id === 1) {
        this.#subscribed = true;
        this.#onSubscribed?.();
        this.#onSubscribed = undefined;
      } else if (f.op === 'msg') this.messages++;
    });
    ws.on('close', () => {
      this.drops.push(Date.now());
      this.#live = this.#subscribed = false;
      if (this.#closed) return;
      const backoff = fullJitter(this.#attempt++, this.opts.baseMs, this.opts.capMs);
      if (retryAfterMs > backoff) this.retryAfterStretched++;
      this.#timer = setTimeout(() => this.#open(), Math.max(backoff, retryAfterMs));
    });
  }
}
