/** HOT PATH: one bus message → one frame string → each transport's sink (the WebSocket's native publish first), then recovery and conflation. */
import type { BusMessage } from '@herald/bus';
import { encodeMsgFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import type { Conflation } from './conflation.js';
import type { Recovery } from './recovery.js';
import { TurnClock } from './turn-clock.js';

/**
 * Where a transport receives the fan-out: the WebSocket's native app.publish (ws/native-sink.ts),
 * the SSE streams (sse/registry.ts). A new transport implements this and is attached at mount.
 */
export interface FanoutSink {
  /** Writes the frame to the sink's connections live on `channel`; returns how many it reached. Cheap when none. */
  deliver(channel: string, seq: number, frame: string): number;
  /** Connections live on `channel` (presence). */
  count(channel: string): number;
}

export interface FanoutDeps {
  readonly metrics: Pick<GatewayMetrics, 'messagesIn' | 'deliveries' | 'deliveryLatency'>;
  readonly recovery: Pick<Recovery, 'has' | 'offer'>;
  /** Conflated topics: keeps each one's newest message for connections paused on it; absent or empty: one size check. */
  readonly conflation?: Pick<Conflation, 'size' | 'offer'>;
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
  readonly #sinks: FanoutSink[] = [];
  readonly #clock = new TurnClock();

  constructor(deps: FanoutDeps) {
    this.#deps = deps;
    this.#trace = deps.log.isLevelEnabled('trace');
  }

  /**
   * Adds a transport's sink (at mount), in delivery order: the native publish first. Messages
   * before the first sink have no local connection to reach.
   */
  attach(sink: FanoutSink): void {
    this.#sinks.push(sink);
  }

  /** Connections of every transport live on `channel` (presence). */
  count(channel: string): number {
    let n = 0;
    for (const sink of this.#sinks) n += sink.count(channel);
    return n;
  }

  /** The bus handler of every channel (passed to Interest once, not per channel). */
  readonly onMessage = (m: BusMessage): void => {
    this.#deps.metrics.messagesIn.inc();
    const sinks = this.#sinks;
    if (sinks.length === 0) return;
    const frame = encodeMsgFrame(m.channel, m.seq, m.prev, m.data, m.ts, m.id);
    let n = 0;
    for (const sink of sinks) n += sink.deliver(m.channel, m.seq, frame);
    if (this.#trace) this.#deps.log.trace({ channel: m.channel, seq: m.seq, subscribers: n }, 'fan-out');
    if (n > 0) {
      this.#deps.metrics.deliveries.inc(n);
      // End-to-end latency, once per message (not per recipient): bus store time → this turn's socket writes.
      // Clamped at 0: the stamp comes from the NATS server's clock, which may run ahead of this host's.
      this.#deps.metrics.deliveryLatency.observe(Math.max(0, this.#clock.now() - m.ts) / 1000);
    }
    // Only connections mid-recovery need a copy (one Map lookup when any exist). After every
    // sink on purpose: a connection that goes live inside `offer` must not get `m` twice.
    if (this.#deps.recovery.has(m.channel)) this.#deps.recovery.offer(m.channel, m.seq, frame);
    const conflation = this.#deps.conflation;
    if (conflation !== undefined && conflation.size !== 0) conflation.offer(m);
  };
}
