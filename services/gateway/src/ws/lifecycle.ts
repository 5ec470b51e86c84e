/** WebSocket connection lifecycle: open, the deferred asynchronous go-live (the personal channel's join, `welcome`), and close. */
import { CloseCode } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Sender } from '../conn/send.js';
import type { ConnState, PendingOpen, WsLike } from '../conn/state.js';
import type { Join, JoinSteps } from '../hub/join.js';
import type { Sessions } from '../hub/session.js';
import type { Subscriptions } from '../hub/subscriptions.js';

export interface LifecycleDeps {
  readonly epoch: () => string;
  /** The bus's live position of a channel (Bus.position), sent in `welcome` as `seq`. */
  readonly position: (channel: string) => number | undefined;
  readonly sessions: Pick<Sessions, 'opened' | 'closed' | 'welcome'>;
  readonly join: Pick<Join, 'run'>;
  readonly subscriptions: Pick<Subscriptions, 'openedPersonal'>;
  readonly sender: Sender;
  /** True once the node drains: a socket still going live is closed with 1012 instead. */
  readonly draining: () => boolean;
  /** The `ws` component logger. */
  readonly log: Logger;
  /** The inbox (inbox/index.ts) when HERALD_INBOX is on: delivery starts right after `welcome`. */
  readonly inbox?: { opened(st: ConnState, after: number): void; closed(st: ConnState): void };
}

/** Close code when the personal channel's bus subscription fails after open (the upgrade was already answered). */
export const BUS_UNAVAILABLE_CLOSE = CloseCode.InternalError;

/**
 * `open` only registers the socket. The go-live step runs from setImmediate (never inside
 * `open`: with an asynchronous `res.cork(() => res.upgrade(...))` uWS v20.30 may tear a
 * socket down when `open` sends, uWebSockets.js#1108) and is asynchronous: it joins
 * `user:<sub>` (hub/join.ts: capture when the URL has `since`, bus interest, history), then,
 * corked and in one synchronous block, sends `welcome` (with `recovered`), the replay and
 * flush, and subscribes the socket. So the personal channel is live when `welcome` is sent.
 *
 * The step heads the connection's command queue: frames arriving meanwhile are answered
 * after `welcome` (ws/inbound.ts). If the socket closes before the step completes, the join
 * gives back what it took (the close path does not: `st.personalHeld` is still false).
 */
export class Lifecycle {
  readonly #deps: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.#deps = deps;
  }

  /** uWS `open`: no sends here (see the class comment). */
  opened(st: ConnState, ws: WsLike): void {
    this.#deps.sessions.opened(st, ws);
    if (st.pendingOpen === undefined) return;
    const live = new Promise<void>((resolve) => {
      setImmediate(resolve);
    }).then(() => this.goLive(st));
    st.queue = live;
    void live.then(() => {
      if (st.queue === live) st.queue = undefined;
    });
  }

  /** Makes the personal channel live and sends `welcome`; a no-op once done or closed. Never rejects. */
  async goLive(st: ConnState): Promise<void> {
    const pending = st.pendingOpen;
    if (pending === undefined || st.closed || st.ws === undefined) return;
    const d = this.#deps;
    const out = await d.join.run(st, [{ channel: st.userChannel, resume: pending.resume }], this.#steps(st, pending));
    if (out.ok || st.closed) {
      if (out.ok) d.log.debug({ conn: st.connId, user: st.sub }, 'connection open');
      return;
    }
    if (out.reason === 'gone' || d.draining()) return d.sender.close(st, CloseCode.Draining, 'draining');
    d.log.warn({ conn: st.connId, user: st.sub, err: out.err, code: BUS_UNAVAILABLE_CLOSE }, 'closing: bus unavailable');
    d.sender.close(st, BUS_UNAVAILABLE_CLOSE, 'bus unavailable');
  }

  /** uWS `close`: the socket is gone; give back every reference. Never sends. */
  closed(st: ConnState, code: number): void {
    this.#deps.sessions.closed(st, code);
    this.#deps.inbox?.closed(st);
  }

  #steps(st: ConnState, pending: PendingOpen): JoinSteps {
    const d = this.#deps;
    return {
      owned: true, // until `ready`; from there the close path releases the reference
      wanted: () => !st.closed && st.ws !== undefined && !d.draining(),
      ready: () => {
        st.pendingOpen = undefined;
        d.subscriptions.openedPersonal(st);
      },
      // Sent in the same synchronous step that subscribes the socket: later messages are above its `seq`.
      live: (recovered) => {
        const asked = pending.resume !== undefined ? recovered[0] === true : pending.resumeAsked ? false : undefined;
        d.sender.send(st, d.sessions.welcome(st, { epoch: d.epoch(), recovered: asked, seq: d.position(st.userChannel) }));
        d.inbox?.opened(st, pending.inbox ?? 0);
      },
    };
  }
}
