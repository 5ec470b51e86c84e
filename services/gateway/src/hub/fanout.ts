/** HOT PATH: one bus message → one frame string → one native app.publish to every local WebSocket (and the SSE registry). */
import type { BusMessage } from '@herald/bus';
import { encodeMsgFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import type { SseRegistry } from '../sse/registry.js';
import type { Conflation } from './conflation.js';
import type { Recovery } from './recovery.js';

/** The two uWS app calls the fan-out makes. */
export interface PublishTarget {
  publish(topic: string, message: string, isBinary?: boolean, compress?: boolean): boolean;
  numSubscribers(topic: string): number;
}

export interface FanoutDeps {
  readonly metrics: Pick<GatewayMetrics, 'messagesIn' | 'deliveries'>;
  readonly recovery: Pick<Recovery, 'has' | 'offer'>;
  /** SSE streams (not reachable by app.publish); absent or empty: never consulted beyond a size check. */
  readonly sse?: Pick<SseRegistry, 'size' | 'deliver'>;
  /** Conflated topics: keeps each one's newest message for connections paused on it; absent or empty: one size check. */
  readonly conflation?: Pick<Conflation, 'size' | 'offer'>;
  /** Ask uWS to deflate (only sockets that negotiated permessage-deflate get it compressed). */
  readonly compress?: boolean;
  /** The `hub` component logger (trace only). */
  readonly log: Logger;
}

/**
 * Fans bus messages out. No per-socket JavaScript: uWS copies the frame to each subscribed
 * socket in C++. No await or setImmediate per message either: messages published in one
 * event-loop turn reach uWS in that turn, so it batches writes per socket (cork).
 * Per-socket backpressure is left to uWS here and policed by the keepalive sweep, and for
 * conflated topics by hub/conflation.ts, which unsubscribes a socket that falls behind (so it
 * is no subscriber here) and resubscribes it once drained.
 */
export class Fanout {
  readonly #deps: FanoutDeps;
  readonly #trace: boolean;
  readonly #compress: boolean;
  #app: PublishTarget | undefined;

  constructor(deps: FanoutDeps) {
    this.#deps = deps;
    this.#trace = deps.log.isLevelEnabled('trace');
    this.#compress = deps.compress === true;
  }

  /** Sets the uWS app (at mount). Messages before that have no local subscriber to reach. */
  attach(app: PublishTarget): void {
    this.#app = app;
  }

  /** The bus handler of every channel (passed to Interest once, not per channel). */
  readonly onMessage = (m: BusMessage): void => {
    this.#deps.metrics.messagesIn.inc();
    const app = this.#app;
    if (app === undefined) return;
    const frame = encodeMsgFrame(m.channel, m.seq, m.prev, m.data, m.ts, m.id);
    const n = app.numSubscribers(m.channel);
    if (this.#trace) this.#deps.log.trace({ channel: m.channel, seq: m.seq, subscribers: n }, 'fan-out');
    if (n > 0) {
      this.#deps.metrics.deliveries.inc(n);
      app.publish(m.channel, frame, false, this.#compress);
    }
    // SSE streams get their copy after the native publish and before the recovery hook, for
    // the same reason: a stream that goes live inside `offer` must not get `m` twice.
    const sse = this.#deps.sse;
    if (sse !== undefined && sse.size !== 0) {
      const k = sse.deliver(m.channel, m.seq, frame);
      if (k > 0) this.#deps.metrics.deliveries.inc(k);
    }
    // Only connections mid-recovery need a copy (one Map lookup when any exist). After the
    // native publish on purpose: a connection that goes native here must not get `m` twice.
    if (this.#deps.recovery.has(m.channel)) this.#deps.recovery.offer(m.channel, m.seq, frame);
    const conflation = this.#deps.conflation;
    if (conflation !== undefined && conflation.size !== 0) conflation.offer(m);
  };
}
