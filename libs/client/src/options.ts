/**
 * The client's options with their defaults applied, and the transports that can run here
 * (a WebSocket implementation for `websocket`, fetch for `sse`).
 * @module
 */
import { endpoints } from './endpoints.js';
import type { SseKit } from './sse-kit.js';
import type { HeraldClientOptions, TransportName, WebSocketConstructor } from './types.js';

/** @internal */
export interface Settings {
  /** The WebSocket endpoint. */
  readonly ws: string;
  /** Usable transports, in order of preference; never empty. */
  readonly transports: readonly [TransportName, ...TransportName[]];
  readonly WebSocket: WebSocketConstructor | undefined;
  /** Backoff base and cap. */
  readonly minReconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly connectTimeoutMs: number;
  readonly ackTimeoutMs: number;
}

/** @internal Throws TypeError when no transport can run (no WebSocket, and no SSE or no fetch for it). */
export function settingsOf(o: HeraldClientOptions, sse: SseKit | undefined): Settings {
  const WebSocket = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const transports = (o.transports ?? ['websocket', 'sse']).filter((t) => (t === 'websocket' ? WebSocket : sse?.fetch) !== undefined);
  if (transports[0] === undefined) throw new TypeError('no WebSocket or fetch');
  return {
    ws: endpoints(o.url).ws,
    transports: transports as [TransportName, ...TransportName[]],
    WebSocket,
    minReconnectDelayMs: o.minReconnectDelayMs ?? 500,
    maxReconnectDelayMs: o.maxReconnectDelayMs ?? 30_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    ackTimeoutMs: o.ackTimeoutMs ?? 10_000,
  };
}
