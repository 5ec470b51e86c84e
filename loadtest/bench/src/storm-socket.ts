/**
 * The WebSocket the storm's SDK clients use: the `ws` package behind the SDK's
 * WebSocketLike, plus two things a real deployment's network would do.
 * - Routing: the SDK's URL names no real host; each new socket goes to the next live gateway
 *   (round robin over the list the parent sends), as a load balancer in front of the nodes would.
 * - Retry-After: given the `ws` package itself, the SDK reads a refused upgrade's Retry-After
 *   and waits max(Retry-After, backoff). This wrapper is not `ws` (it looks like a browser
 *   socket), so on a 503/429 it holds the failure back for `Retry-After` seconds before the
 *   SDK sees it; the SDK's full-jitter backoff then runs on top (wait = Retry-After + backoff).
 * @module
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import type { WebSocketEventLike, WebSocketLike } from '@herald/client';

type EventType = 'open' | 'message' | 'close' | 'error';
type Listener = (event: WebSocketEventLike) => void;

export interface SocketCounters {
  /** Sockets opened (upgrade attempts). */
  attempts: number;
  /** Refused upgrades by HTTP status. */
  refusals: Record<string, number>;
  /** TCP connection refused (a dead node still in the list). */
  connRefused: number;
}

export const counters: SocketCounters = { attempts: 0, refusals: {}, connRefused: 0 };

let ports: number[] = [];
let next = 0;
let honorRetryAfter = true;

/** The gateways new sockets go to. */
export function route(live: readonly number[]): void {
  ports = [...live];
}

export function setHonorRetryAfter(on: boolean): void {
  honorRetryAfter = on;
}

export class StormSocket implements WebSocketLike {
  readonly #ws: WebSocket;
  readonly #listeners = new Map<EventType, Set<Listener>>();
  #refused = false;

  constructor(url: string, protocols?: string | string[]) {
    const u = new URL(url);
    const port = ports[next++ % Math.max(1, ports.length)] ?? 1;
    u.host = `127.0.0.1:${port}`;
    counters.attempts++;
    this.#ws = new WebSocket(u.toString(), protocols, { perMessageDeflate: false });
    this.#ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      this.#refused = true;
      const status = res.statusCode ?? 0;
      counters.refusals[status] = (counters.refusals[status] ?? 0) + 1;
      const ra = Number(res.headers['retry-after'] ?? 0);
      res.resume();
      this.#ws.terminate();
      const delay = honorRetryAfter && Number.isFinite(ra) && ra > 0 ? ra * 1000 : 0;
      setTimeout(() => {
        this.#emit('error', { type: 'error', message: `Unexpected server response: ${status}` });
        this.#emit('close', { type: 'close', code: 1006, reason: '' });
      }, delay);
    });
    this.#ws.on('open', () => this.#emit('open', { type: 'open' }));
    this.#ws.on('message', (data: WebSocket.RawData) => {
      if (!this.#refused) this.#emit('message', { type: 'message', data: data.toString() });
    });
    this.#ws.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#refused) return;
      if (err.code === 'ECONNREFUSED') counters.connRefused++;
      this.#emit('error', { type: 'error', message: err.message });
    });
    this.#ws.on('close', (code: number, reason: Buffer) => {
      if (!this.#refused) this.#emit('close', { type: 'close', code, reason: reason.toString() });
    });
  }

  get readyState(): number {
    return this.#refused ? WebSocket.CLOSED : this.#ws.readyState;
  }

  send(data: string): void {
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    if (this.#refused) return;
    try {
      this.#ws.close(code, reason);
    } catch {
      this.#ws.terminate();
    }
  }

  addEventListener(type: EventType, listener: Listener): void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  #emit(type: EventType, event: WebSocketEventLike): void {
    for (const l of this.#listeners.get(type) ?? []) l(event);
  }
}
