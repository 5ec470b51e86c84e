/**
 * @herald/client/ws: the same HeraldClient over WebSocket only, without the SSE fallback (a
 * smaller bundle for apps whose users are known to reach WebSocket). Same API and events; the
 * `transports` and `fetch` options are ignored for SSE.
 * @example
 * import { HeraldClient } from '@herald/client/ws';
 * @module
 */
import { HeraldClientCore } from './client.js';
import type { HeraldClientOptions } from './types.js';

/**
 * A HeraldClient that never uses SSE. Throws TypeError when there is no WebSocket implementation
 * (Node 20: pass `WebSocket` from the `ws` package).
 * @example
 * const client = new HeraldClient({ url: 'https://push.example.com', getToken });
 */
export class HeraldClient extends HeraldClientCore {
  /**
   * @example
   * import WebSocket from 'ws'; // Node 20 has no global WebSocket
   * const client = new HeraldClient({ url: 'http://127.0.0.1:8080', token, WebSocket });
   */
  constructor(options: HeraldClientOptions) {
    super(options, undefined);
  }
}

export type { HeraldClientCore } from './client.js';
export { HeraldError } from './errors.js';
export type { HeraldErrorDetails } from './errors.js';
export type {
  CloseReaction, ConnectedInfo, ConnectionState, HeraldClientEvents, HeraldClientOptions, HeraldErrorLike, HeraldMessage,
  MessageHandler, Presence, SubscribeOptions, SubscribeResult, Subscription, TransportName, UnrecoveredEvent, WebSocketConstructor, WebSocketEventLike, WebSocketLike,
} from './types.js';
