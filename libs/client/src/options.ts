/**
 * The client's options with their defaults applied, and the transports that can run here
 * (a WebSocket implementation for `websocket`, fetch for `sse`).
 * @module
 */
import { endpoints, type Endpoints } from './endpoints.js';
import type { SseKit } from './sse-kit.js';
import type { HeraldClientOptions, TransportName, WebSocketConstructor } from './types.js';

/** @internal */
export interface Settings {
  readonly urls: Endpoints;
  /** Usable transports, in order of preference; never empty. */
  readonly transports: readonly [TransportName, ...TransportName[]];
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly baseMs: number;
  readonly capMs: number;
  readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
}

/** @internal Throws TypeError when no transport can run (no WebSocket, and no SSE or no fetch for it). */
export function settingsOf(o: HeraldClientOptions, sse: SseKit | undefined): Settings {
  const WebSocket = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const transports = (o.transports ?? ['websocket', 'sse']).filter((t) => (t === 'websocket' ? WebSocket : sse?.fetch) !== undefined);
  if (transports[0] === undefined) throw new TypeError('no transport: pass WebSocket or fetch');
  return {
    urls: endpoints(o.url),
    transports: transports as [TransportName, ...TransportName[]],
    WebSocket,
    baseMs: o.minReconnectDelayMs ?? 500,
    capMs: o.maxReconnectDelayMs ?? 30_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    ackTimeoutMs: o.ackTimeoutMs ?? 10_000,
  };
}
