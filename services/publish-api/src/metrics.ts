/** The publish API's Prometheus metrics, registered once per registry. */
import { Counter, Histogram, type Registry } from '@herald/telemetry';

/** Metrics every route updates. */
export interface PublishMetrics {
  /** herald_publish_requests_total{route,status}: every answered request. */
  readonly requests: Counter<'route' | 'status'>;
  /** herald_publish_messages_total{result}: channel publishes acknowledged, `stored` or `duplicate`. */
  readonly messages: Counter<'result'>;
  /** herald_publish_duration_seconds{route}: from validated request to the bus's last acknowledgement. */
  readonly duration: Histogram<'route'>;
}

// Publish latency is one JetStream round trip (~1 ms) for a single message, up to seconds
// for a large batch or a bus timeout (NATS_TIMEOUT_MS, 5 s by default).
const DURATION_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Histogram) return existing as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS_S, registers: [registry] });
}

/**
 * Registers (or finds, when another publish API instance of this process already did)
 * the publish API's metrics in `registry`.
 */
export function createPublishMetrics(registry: Registry): PublishMetrics {
  return {
    requests: counter(registry, 'herald_publish_requests_total', 'Publish API requests answered, by route and HTTP status.', ['route', 'status']),
    messages: counter(registry, 'herald_publish_messages_total', 'Channel publishes acknowledged by the bus: stored, or duplicate (id seen within the dedupe window).', ['result']),
    duration: histogram(registry, 'herald_publish_duration_seconds', 'Time from a validated publish request to the bus acknowledging every message, seconds.', ['route']),
  };
}
