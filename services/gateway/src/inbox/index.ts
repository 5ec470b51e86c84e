/**
 * The gateway's inbox (docs/inbox.md, docs/protocol.md#inbox), on when HERALD_INBOX is: every
 * connection gets its user's unread inbox messages after `welcome`, then live ones; `receipt`
 * frames and `POST /v1/inbox/receipts` acknowledge them; `read` frames reach the user's other
 * connections. The hooks in the transports call `opened` / `closed` / `receipt`.
 * @module
 */
import type { TokenVerifier } from '@herald/auth';
import type { EventPublisher } from '@herald/events';
import type { InboxStore } from '@herald/inbox';
import type { AckFrame, ErrFrame, ReceiptFrame } from '@herald/protocol';
import type { App } from '@herald/uws';
import type { Logger } from '@herald/telemetry';
import type { Sender } from '../conn/send.js';
import type { ConnState } from '../conn/state.js';
import { ConnInbox, type DeliveryDeps } from './delivery.js';
import { createReceiptRoutes, RECEIPTS_PATH } from './http.js';
import { forwardingPublisher, InboxStoreHandle, type InboxStoreConfig } from './open.js';
import { Receipts } from './receipts.js';

export { RECEIPTS_PATH } from './http.js';
export { inboxFrameText } from './delivery.js';

export interface GatewayInboxDeps {
  readonly config: InboxStoreConfig & { readonly INBOX: boolean };
  readonly nodeId: string;
  readonly memory: boolean;
  /** A store the host shares (herald dev: the publish API's too). */
  readonly store?: InboxStore | undefined;
  /** The node's events publisher once started (undefined while HERALD_EVENTS is off). */
  readonly events: () => EventPublisher | undefined;
  readonly sender: Sender;
  readonly log: Logger;
}

/** What a `receipt` frame is answered with. */
type ReceiptReply = AckFrame | ErrFrame;

export class GatewayInbox {
  readonly enabled: boolean;
  readonly #handle: InboxStoreHandle | undefined;
  readonly #receipts: Receipts | undefined;
  readonly #conns = new Map<ConnState, ConnInbox>();
  /** What every connection's delivery needs: one object for all (not a closure and an object per connection). */
  readonly #delivery: DeliveryDeps;

  constructor(deps: GatewayInboxDeps) {
    this.enabled = deps.config.INBOX;
    this.#delivery = { store: () => this.#store(), sender: deps.sender, maxBuffered: deps.config.INBOX_MAX, log: deps.log };
    if (!this.enabled) return;
    this.#handle = new InboxStoreHandle({
      config: deps.config, nodeId: deps.nodeId, log: deps.log, events: forwardingPublisher(deps.events), memory: deps.memory,
      ...(deps.store === undefined ? {} : { store: deps.store }),
    });
    this.#receipts = new Receipts({ store: () => this.#store(), log: deps.log });
  }

  /** The in-process store (memory mode) to share with a publish API in the same process. */
  get memoryStore(): InboxStore | undefined {
    return this.#handle?.memoryStore;
  }

  #store(): Promise<InboxStore> {
    if (!this.#handle) return Promise.reject(new Error('inbox off'));
    return this.#handle.store();
  }

  async start(): Promise<void> {
    await this.#handle?.start();
  }

  /** `POST /v1/inbox/receipts` (and its CORS preflight). */
  mount(app: App, verifier: TokenVerifier, originAllowed: (origin: string) => boolean): void {
    if (!this.#receipts) return;
    const routes = createReceiptRoutes({ verifier, receipts: this.#receipts, originAllowed });
    app.post(RECEIPTS_PATH, routes.post);
    app.options(RECEIPTS_PATH, routes.options);
  }

  /** The connection went live (after `welcome`): deliver from `after` (the client's last inbox seq). */
  opened(st: ConnState, after: number): void {
    if (!this.#handle || st.closed || this.#conns.has(st)) return;
    const conn = new ConnInbox(st, after, this.#delivery);
    this.#conns.set(st, conn);
    void conn.start();
  }

  closed(st: ConnState): void {
    const conn = this.#conns.get(st);
    if (!conn) return;
    this.#conns.delete(st);
    conn.stop();
  }

  /** A `receipt` frame → `ack` or `err` (`invalid`, `unavailable`). */
  async receipt(st: ConnState, frame: ReceiptFrame): Promise<ReceiptReply> {
    if (!this.#receipts) return { op: 'err', id: frame.id, code: 'unavailable', message: 'inbox not enabled on this gateway' };
    if (frame.status === 'read') this.#conns.get(st)?.noteOwnRead(frame.upTo ?? frame.seqs ?? []);
    const out = await this.#receipts.apply(st.sub, frame);
    if (out === 'ok') return { op: 'ack', id: frame.id };
    if (out === 'invalid') return { op: 'err', id: frame.id, code: 'invalid', message: 'invalid receipt' };
    return { op: 'err', id: frame.id, code: 'unavailable', message: 'inbox store unavailable; send it again later' };
  }

  async close(): Promise<void> {
    for (const conn of this.#conns.values()) conn.stop();
    this.#conns.clear();
    await this.#handle?.close();
  }
}
