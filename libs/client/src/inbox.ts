/**
 * @herald/client/inbox: the whole client (`@herald/client`) plus `client.inbox`
 * (docs/sdk.md#inbox), a separate entry so the main bundles keep their size budget.
 * @example
 * import { HeraldClient } from '@herald/client/inbox';
 * const client = new HeraldClient({ url: 'https://push.example.com', getToken });
 * client.inbox.on('message', (m) => showNotification(m.data)); // `delivered` is acknowledged for you
 * await client.inbox.markRead(m);                                // the user's other devices get `read`
 * client.connect();
 * @module
 */
import { HeraldClientCore } from './client.js';
import { inboxExt, type Inbox, type InboxOptions } from './inbox-ext.js';
import { presenceExt } from './presence.js';
import { sseKit } from './sse-kit.js';
import type { HeraldClientOptions } from './types.js';

/** The full HeraldClient with the user's inbox. */
export class HeraldClient extends HeraldClientCore {
  /** The user's inbox: unread messages, `message` / `read` events, receipts. */
  readonly inbox: Inbox;

  /**
   * @example
   * const client = new HeraldClient({ url: 'http://127.0.0.1:8080', token, WebSocket, autoDelivered: false });
   */
  constructor(options: HeraldClientOptions & InboxOptions) {
    const box = inboxExt(options);
    super(options, sseKit, () => {
      const p = presenceExt();
      return { ...p, feed: (f, t) => (p.feed(f), box.feed(f, t)), inboxAt: () => box.inbox.last };
    });
    this.inbox = box.inbox;
  }
}

export { HeraldError } from './errors.js';
export type { HeraldClientCore } from './client.js';
export type { HeraldErrorDetails } from './errors.js';
export type { Inbox, InboxEvents, InboxMessage, InboxOptions } from './inbox-ext.js';
export type {
  CloseReaction, ConnectedInfo, ConnectionState, FetchLike, HeraldClientEvents, HeraldClientOptions, HeraldErrorLike, HeraldMessage,
  MessageHandler, Presence, SubscribeOptions, SubscribeResult, Subscription, TransportName, UnrecoveredEvent, WebSocketConstructor, WebSocketEventLike, WebSocketLike,
} from './types.js';
