/**
 * @herald/client: the browser and Node SDK for Herald. One class, HeraldClient; no
 * runtime dependencies.
 * @example
 * import { HeraldClient } from '@herald/client';
 * const client = new HeraldClient({ url: 'https://push.example.com', getToken });
 * client.subscribe('news', (m) => console.log(m.data));
 * client.on('user', (m) => console.log('for me', m.data));
 * client.connect();
 * @module
 */
import { HeraldClientCore } from './client.js';
import { presenceExt } from './presence.js';
import { sseKit } from './sse-kit.js';
import type { HeraldClientOptions } from './types.js';

/**
 * A connection to a Herald gateway over WebSocket, falling back to Server-Sent Events, kept
 * alive across network loss, node restarts, drains and token expiry. See HeraldClientCore.
 * @example
 * const client = new HeraldClient({ url: 'https://push.example.com', getToken: () => fetchToken() });
 */
export class HeraldClient extends HeraldClientCore {
  /**
   * @example
   * import WebSocket from 'ws'; // Node 20 has no global WebSocket
   * const client = new HeraldClient({ url: 'http://127.0.0.1:8080', token, WebSocket });
   */
  constructor(options: HeraldClientOptions) {
    super(options, sseKit, presenceExt);
  }
}

export type { HeraldClientCore } from './client.js';
export { HeraldError } from './errors.js';
export type { HeraldErrorDetails } from './errors.js';
export type {
  CloseReaction, ConnectedInfo, ConnectionState, FetchLike, HeraldClientEvents, HeraldClientOptions, HeraldErrorLike, HeraldMessage,
  MessageHandler, Presence, SubscribeOptions, SubscribeResult, Subscription, TransportName, UnrecoveredEvent, WebSocketConstructor, WebSocketEventLike, WebSocketLike,
} from './types.js';
