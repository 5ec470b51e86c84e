/** A connection's session on the node, whatever its transport: registered when it opens, `welcome` built once, everything released at close. */
import type { WelcomeFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Connections } from '../conn/registry.js';
import type { ConnState, WsLike } from '../conn/state.js';
import { closeCodeLabel, type GatewayMetrics } from '../metrics.js';
import type { Subscriptions } from './subscriptions.js';

export interface SessionsDeps {
  readonly nodeId: string;
  readonly heartbeatMs: number;
  readonly connections: Connections;
  readonly subscriptions: Pick<Subscriptions, 'releaseAll'>;
  readonly metrics: Pick<GatewayMetrics, 'connections' | 'closes'>;
  /** The `ws` component logger. */
  readonly log: Logger;
}

/** What `welcome` says beyond the connection itself. */
export interface WelcomeFacts {
  /** The history epoch the client's positions belong to. */
  readonly epoch: string;
  /** Only when the client asked to recover. */
  readonly recovered: boolean | undefined;
  /** The personal channel's live position (WebSocket). */
  readonly seq?: number | undefined;
  /** Set by transports other than the WebSocket. */
  readonly transport?: WelcomeFrame['transport'];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Sessions {
  readonly #deps: SessionsDeps;

  constructor(deps: SessionsDeps) {
    this.#deps = deps;
  }

  /** The socket (or stream) of a reserved connection exists: it joins the connection table. */
  opened(st: ConnState, ws: WsLike): void {
    st.ws = ws;
    this.#deps.connections.add(st);
    this.#deps.metrics.connections.set(this.#deps.connections.size);
  }

  /** The socket is gone: give back the slot and every reference. Never sends; idempotent. */
  closed(st: ConnState, code: number): void {
    if (st.closed) return;
    st.closed = true;
    st.ws = undefined;
    // A pending go-live step notices `closed` and gives back what it took itself.
    st.pendingOpen = undefined;
    this.#deps.connections.remove(st, code);
    this.#deps.subscriptions.releaseAll(st);
    this.#deps.metrics.connections.set(this.#deps.connections.size);
    this.#deps.metrics.closes.inc({ code: closeCodeLabel(code) });
    this.#deps.log.debug({ conn: st.connId, user: st.sub, code }, 'connection closed');
  }

  /** The `welcome` frame of a connection (docs/protocol.md#server--client): optional fields only when they apply. */
  welcome(st: ConnState, facts: WelcomeFacts): WelcomeFrame {
    const frame: Mutable<WelcomeFrame> = {
      op: 'welcome', conn: st.connId, node: this.#deps.nodeId, user: st.sub, heartbeat: this.#deps.heartbeatMs, epoch: facts.epoch,
    };
    if (st.exp !== undefined) frame.exp = st.exp;
    if (facts.recovered !== undefined) frame.recovered = facts.recovered;
    if (facts.seq !== undefined) frame.seq = facts.seq;
    if (facts.transport !== undefined) frame.transport = facts.transport;
    return frame;
  }
}
