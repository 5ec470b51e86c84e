/** Connection lifecycle: open (deferred go-live with `welcome`), and close (release everything, never send). */
import type { WelcomeFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Recovery } from '../hub/recovery.js';
import type { Subscriptions } from '../hub/subscriptions.js';
import { closeCodeLabel, type GatewayMetrics } from '../metrics.js';
import type { ConnState, WsLike } from './conn-state.js';
import type { Connections } from './connections.js';
import type { Sender } from './send.js';

export interface LifecycleDeps {
  readonly nodeId: string;
  readonly heartbeatMs: number;
  readonly epoch: () => string;
  readonly connections: Connections;
  readonly subscriptions: Pick<Subscriptions, 'openedPersonal' | 'releaseAll'>;
  readonly recovery: Pick<Recovery, 'apply' | 'end'>;
  readonly sender: Sender;
  readonly metrics: Pick<GatewayMetrics, 'connections' | 'closes'>;
  /** The `ws` component logger. */
  readonly log: Logger;
}

function goLiveLater(lc: Lifecycle, st: ConnState): void {
  lc.goLive(st);
}

/**
 * Why the go-live step is deferred: with an asynchronous `res.cork(() => res.upgrade(...))`,
 * uWS v20.30 may tear the socket down right after `open` when `open` sends
 * (uWebSockets.js#1108, uWebSockets#1928, fixed upstream by PR #1929). So `open` only
 * registers the socket; `goLive` runs from setImmediate (or from the first inbound frame,
 * whichever comes first), checks the socket is still open, and then — corked, in one
 * synchronous block — sends `welcome`, replays the personal channel when the URL asked for
 * it, and subscribes the socket to `user:<sub>`.
 */
export class Lifecycle {
  readonly #deps: LifecycleDeps;

  constructor(deps: LifecycleDeps) {
    this.#deps = deps;
  }

  /** uWS `open`: no sends here (see the class comment). */
  opened(st: ConnState, ws: WsLike): void {
    st.ws = ws;
    this.#deps.connections.add(st);
    this.#deps.subscriptions.openedPersonal();
    this.#deps.metrics.connections.set(this.#deps.connections.size);
    setImmediate(goLiveLater, this, st);
  }

  /** Sends `welcome` and makes the personal channel live; a no-op once done or closed. */
  goLive(st: ConnState): void {
    const pending = st.pendingOpen;
    const ws = st.ws;
    if (pending === undefined || st.closed || ws === undefined) return;
    st.pendingOpen = undefined;
    if (pending.recovery !== undefined) {
      this.#deps.recovery.apply(pending.recovery.buffer, pending.recovery.plan, (recovered) => this.#welcome(st, recovered));
    } else {
      ws.cork(() => {
        if (!this.#welcome(st, pending.resumeAsked ? false : undefined)) return;
        ws.subscribe(st.userChannel);
      });
    }
    this.#deps.log.debug({ conn: st.connId, user: st.sub }, 'connection open');
  }

  /** uWS `close`: the socket is gone; give back every reference. Never sends. */
  closed(st: ConnState, code: number): void {
    if (st.closed) return;
    st.closed = true;
    st.ws = undefined;
    if (st.pendingOpen?.recovery !== undefined) this.#deps.recovery.end(st.pendingOpen.recovery.buffer);
    st.pendingOpen = undefined;
    this.#deps.connections.remove(st);
    this.#deps.subscriptions.releaseAll(st);
    this.#deps.metrics.connections.set(this.#deps.connections.size);
    this.#deps.metrics.closes.inc({ code: closeCodeLabel(code) });
    this.#deps.log.debug({ conn: st.connId, user: st.sub, code }, 'connection closed');
  }

  #welcome(st: ConnState, recovered: boolean | undefined): boolean {
    const frame: { -readonly [K in keyof WelcomeFrame]: WelcomeFrame[K] } = {
      op: 'welcome',
      conn: st.connId,
      node: this.#deps.nodeId,
      user: st.sub,
      heartbeat: this.#deps.heartbeatMs,
      epoch: this.#deps.epoch(),
    };
    if (st.exp !== undefined) frame.exp = st.exp;
    if (recovered !== undefined) frame.recovered = recovered;
    return this.#deps.sender.send(st, frame);
  }
}
