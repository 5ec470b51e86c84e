/** Connection lifecycle: open, the deferred asynchronous go-live (bus interest, recovery, `welcome`), and close (release everything, never send). */
import { CloseCode, type WelcomeFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Interest } from '../hub/interest.js';
import type { Recovery, RecoveryPlan } from '../hub/recovery.js';
import type { Subscriptions } from '../hub/subscriptions.js';
import { closeCodeLabel, type GatewayMetrics } from '../metrics.js';
import type { ConnState, WsLike } from './conn-state.js';
import type { Connections } from './connections.js';
import type { Sender } from './send.js';

export interface LifecycleDeps {
  readonly nodeId: string;
  readonly heartbeatMs: number;
  readonly epoch: () => string;
  /** The bus's live position of a channel (Bus.position), sent in `welcome` as `seq`. */
  readonly position: (channel: string) => number | undefined;
  readonly connections: Connections;
  readonly subscriptions: Pick<Subscriptions, 'openedPersonal' | 'releaseAll'>;
  readonly interest: Pick<Interest, 'acquire' | 'release'>;
  readonly recovery: Pick<Recovery, 'begin' | 'read' | 'apply' | 'end'>;
  readonly sender: Sender;
  /** True once the node drains: a socket still going live is closed with 1012 instead. */
  readonly draining: () => boolean;
  readonly metrics: Pick<GatewayMetrics, 'connections' | 'closes'>;
  /** The `ws` component logger. */
  readonly log: Logger;
}

/** Close code when the personal channel's bus subscription fails after open (the upgrade was already answered). */
export const BUS_UNAVAILABLE_CLOSE = 1011;

/**
 * `open` only registers the socket. The go-live step runs from setImmediate (never inside
 * `open`: with an asynchronous `res.cork(() => res.upgrade(...))` uWS v20.30 may tear a
 * socket down when `open` sends, uWebSockets.js#1108) and is asynchronous: it takes the
 * bus interest of `user:<sub>` (the recovery capture begins first when the URL has
 * `since`), reads history when asked, then, corked and in one synchronous block, sends
 * `welcome` (with `recovered`), the replay and flush, and subscribes the socket to
 * `user:<sub>`. So the personal channel is live when `welcome` is sent.
 *
 * The step heads the connection's command queue: frames arriving meanwhile are answered
 * after `welcome` (ws/inbound.ts). If the socket closes before the step completes, the step
 * gives back what it took (the close path does not: `st.personalHeld` is still false).
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
    this.#deps.metrics.connections.set(this.#deps.connections.size);
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
    const { resume } = pending;
    // The capture starts before the bus subscription, so no live message falls between the two.
    const buffer = resume === undefined ? undefined : d.recovery.begin(st, st.userChannel, resume.since);
    try {
      await d.interest.acquire(st.userChannel);
    } catch (err) {
      if (buffer !== undefined) d.recovery.end(buffer);
      if (st.closed) return;
      if (d.draining()) return d.sender.close(st, CloseCode.Draining, 'draining');
      d.log.warn({ conn: st.connId, user: st.sub, err, code: BUS_UNAVAILABLE_CLOSE }, 'closing: bus unavailable');
      return d.sender.close(st, BUS_UNAVAILABLE_CLOSE, 'bus unavailable');
    }
    let plan: RecoveryPlan | undefined;
    if (buffer !== undefined && resume !== undefined) plan = await d.recovery.read(st.userChannel, resume.since, resume.epoch); // never rejects
    const ws = st.ws;
    if (st.closed || ws === undefined || d.draining()) {
      // Gone (or draining) meanwhile: this step still owns the interest reference; give it back, once.
      if (buffer !== undefined) d.recovery.end(buffer);
      d.interest.release(st.userChannel);
      if (!st.closed) d.sender.close(st, CloseCode.Draining, 'draining');
      return;
    }
    st.pendingOpen = undefined;
    d.subscriptions.openedPersonal(st); // from here the close path releases the reference
    if (buffer !== undefined && plan !== undefined) {
      d.recovery.apply(buffer, plan, (recovered) => this.#welcome(st, recovered));
    } else {
      ws.cork(() => {
        if (!this.#welcome(st, pending.resumeAsked ? false : undefined)) return;
        ws.subscribe(st.userChannel);
      });
    }
    d.log.debug({ conn: st.connId, user: st.sub }, 'connection open');
  }

  /** uWS `close`: the socket is gone; give back every reference. Never sends. */
  closed(st: ConnState, code: number): void {
    if (st.closed) return;
    st.closed = true;
    st.ws = undefined;
    // A pending go-live step notices `closed` and gives back what it took itself.
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
    // Sent in the same synchronous step that subscribes the socket: later messages are above it.
    const seq = this.#deps.position(st.userChannel);
    if (seq !== undefined) frame.seq = seq;
    return this.#deps.sender.send(st, frame);
  }
}
