/**
 * Prometheus metrics: one registry per process, shared by the services running in it.
 * @module
 */
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/**
 * A registry with the process's default metrics (CPU, memory, event-loop lag) under their
 * standard names (`process_cpu_seconds_total`, `nodejs_eventloop_lag_p99_seconds`, ...), so
 * the usual Node.js dashboards and alerts work unchanged; Herald's own metrics are `herald_*`.
 */
export function createMetricsRegistry(labels: Readonly<Record<string, string>> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ ...labels });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export { Registry, Counter, Gauge, Histogram };
