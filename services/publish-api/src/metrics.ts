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
  /** Counts one answered request (label children cached: no label hashing per request). */
  countRequest(route: string, status: number): void;
  /** Counts acknowledged channel publishes. */
  countMessages(result: 'stored' | 'duplicate', n: number): void;
  /** Records one request's publish duration. */
  observeDuration(route: string, seconds: number): void;
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
  const requests = counter(registry, 'herald_publish_requests_total', 'Publish API requests answered, by route and HTTP status.', ['route', 'status']);
  const messages = counter(registry, 'herald_publish_messages_total', 'Channel publishes acknowledged by the bus: stored, or duplicate (id seen within the dedupe window).', ['result']);
  const duration = histogram(registry, 'herald_publish_duration_seconds', 'Time from a validated publish request to the bus acknowledging every message, seconds.', ['route']);
  // prom-client hashes a label object on every inc/observe; the label sets here are few
  // (routes × statuses) and fixed by the code, so their children are looked up once.
  const requestChildren = new Map<string, Counter.Internal>();
  const durationChildren = new Map<string, Histogram.Internal<'route'>>();
  const stored = messages.labels({ result: 'stored' });
  const duplicate = messages.labels({ result: 'duplicate' });
  return {
    requests,
    messages,
    duration,
    countRequest(route, status) {
      const key = route + ' ' + status;
      let child = requestChildren.get(key);
      if (child === undefined) {
        child = requests.labels({ route, status: String(status) });
        requestChildren.set(key, child);
      }
      child.inc();
    },
    countMessages(result, n) {
      (result === 'stored' ? stored : duplicate).inc(n);
    },
    observeDuration(route, seconds) {
      let child = durationChildren.get(route);
      if (child === undefined) {
        child = duration.labels({ route });
        durationChildren.set(route, child);
      }
      child.observe(seconds);
    },
  };
}
