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
  readonly kinds: readonly [TransportName, ...TransportName[]];
  readonly Socket: WebSocketConstructor | undefined;
  /** Backoff base and cap (`minReconnectDelayMs`, `maxReconnectDelayMs`). */
  readonly baseMs: number;
  readonly capMs: number;
  readonly connectMs: number;
  readonly ackMs: number;
}

/** @internal Throws TypeError when no transport can run (no WebSocket, and no SSE or no fetch for it). */
export function settingsOf(o: HeraldClientOptions, sse: SseKit | undefined): Settings {
  const Socket = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const kinds = (o.transports ?? ['websocket', 'sse']).filter((t) => (t === 'websocket' ? Socket : sse?.fetch) !== undefined);
  if (kinds[0] === undefined) throw new TypeError('no WebSocket or fetch');
  return {
    ws: endpoints(o.url).ws,
    kinds: kinds as [TransportName, ...TransportName[]],
    Socket,
    baseMs: o.minReconnectDelayMs ?? 500,
    capMs: o.maxReconnectDelayMs ?? 30_000,
    connectMs: o.connectTimeoutMs ?? 10_000,
    ackMs: o.ackTimeoutMs ?? 10_000,
  };
}
