/** Readiness of a gateway node: not draining, and in NATS mode a connected bus whose canary came back recently. */
import type { Bus } from '@herald/bus';
import type { Logger } from '@herald/telemetry';
import type { Readiness } from '@herald/uws';
import type { GatewayMetrics } from './metrics.js';

/** The canary must have succeeded within this many intervals for /readyz to pass. */
export const CANARY_GRACE_INTERVALS = 3;

export interface ReadinessDeps {
  readonly bus: Pick<Bus, 'kind' | 'isConnected' | 'probe'>;
  readonly nodeId: string;
  /** CANARY_INTERVAL_MS. */
  readonly intervalMs: number;
  readonly isDraining: () => boolean;
  readonly metrics: Pick<GatewayMetrics, 'canarySeconds'>;
  /** The `readiness` component logger. */
  readonly log: Logger;
}

/**
 * A memory bus lives in this process: ready unless draining. On NATS, "connected" is not
 * enough (a subscription can be lost silently), so a canary goes through the same publish →
 * subscribe path as real messages every interval.
 */
export class ReadinessProbe {
  readonly #deps: ReadinessDeps;
  #timer: NodeJS.Timeout | undefined;
  #lastOk: number | undefined;
  #inFlight = false;

  constructor(deps: ReadinessDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#deps.bus.kind !== 'nats' || this.#timer !== undefined) return;
    void this.#probe();
    this.#timer = setInterval(() => void this.#probe(), this.#deps.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readiness(): Readiness {
    if (this.#deps.isDraining()) return { ready: false, reason: 'draining' };
    const bus = this.#deps.bus;
    if (!bus.isConnected()) return { ready: false, reason: 'bus_disconnected' };
    if (bus.kind !== 'nats') return { ready: true };
    if (this.#lastOk === undefined) return { ready: false, reason: 'canary_pending' };
    if (Date.now() - this.#lastOk > CANARY_GRACE_INTERVALS * this.#deps.intervalMs) return { ready: false, reason: 'canary_failed' };
    return { ready: true };
  }

  async #probe(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      const ms = await this.#deps.bus.probe(this.#deps.nodeId, Math.max(100, Math.min(this.#deps.intervalMs, 5000)));
      this.#lastOk = Date.now();
      this.#deps.metrics.canarySeconds.observe(ms / 1000);
    } catch (err) {
      this.#deps.log.warn({ err }, 'bus canary failed');
    } finally {
      this.#inFlight = false;
    }
  }
}
