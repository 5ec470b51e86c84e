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
export { HeraldClient } from './client.js';
export { HeraldError } from './errors.js';
export type { HeraldErrorDetails } from './errors.js';
export type {
  CloseReaction, ConnectedInfo, ConnectionState, FetchLike, HeraldClientEvents, HeraldClientOptions, HeraldErrorLike, HeraldMessage,
  MessageHandler, SubscribeResult, Subscription, TransportName, UnrecoveredEvent, WebSocketConstructor, WebSocketEventLike, WebSocketLike,
} from './types.js';
