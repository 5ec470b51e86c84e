/**
 * The client's options with their defaults applied, and the transports that can run here
 * (a WebSocket implementation for `websocket`, fetch for `sse`).
 * @module
 */
import { endpoints, type Endpoints } from './endpoints.js';
import type { FetchLike, HeraldClientOptions, TransportName, WebSocketConstructor } from './types.js';

/** @internal */
export interface Settings {
  readonly urls: Endpoints;
  /** Usable transports, in order of preference; never empty. */
  readonly transports: readonly [TransportName, ...TransportName[]];
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly fetch: FetchLike | undefined;
  readonly tokenIn: 'query' | 'header';
  readonly baseMs: number;
  readonly capMs: number;
  readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly fallbackAfter: number;
}

/** @internal Throws TypeError when no transport can run (no WebSocket and no fetch). */
export function settingsOf(o: HeraldClientOptions): Settings {
  const g = globalThis as { WebSocket?: WebSocketConstructor; fetch?: FetchLike; document?: unknown };
  const WebSocket = o.WebSocket ?? g.WebSocket;
  const fetch = o.fetch ?? g.fetch?.bind(globalThis);
  const transports = (o.transports ?? ['websocket', 'sse']).filter((t) => (t === 'websocket' ? WebSocket : fetch) !== undefined);
  if (transports[0] === undefined) throw new TypeError('no transport: pass WebSocket or fetch');
  return {
    urls: endpoints(o.url),
    transports: transports as [TransportName, ...TransportName[]],
    WebSocket,
    fetch,
    tokenIn: o.sseTokenIn ?? (g.document === undefined ? 'header' : 'query'),
    baseMs: o.minReconnectDelayMs ?? 500,
    capMs: o.maxReconnectDelayMs ?? 30_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    ackTimeoutMs: o.ackTimeoutMs ?? 10_000,
    fallbackAfter: o.failuresBeforeFallback ?? 3,
  };
}
