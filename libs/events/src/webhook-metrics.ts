/**
 * Webhook metrics, one set per registry, labelled by target id (never the URL: it may hold a token).
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from '@herald/telemetry';

export interface WebhookMetrics {
  /** Events held for a target: queued, in flight or waiting for a retry. */
  readonly pending: Gauge<'target'>;
  readonly delivered: Counter<'target'>;
  /** Failed attempts that will be retried. */
  readonly retried: Counter<'target'>;
  /** Events given up on after the retry horizon (moved to the dead letters). */
  readonly failed: Counter<'target'>;
  /** Memory mode: events dropped because the target's queue was full. */
  readonly dropped: Counter<'target'>;
  /** Event time → 2xx answer. */
  readonly latency: Histogram<'target'>;
}

const cache = new WeakMap<Registry, WebhookMetrics>();

export function webhookMetrics(registry?: Registry): WebhookMetrics {
  const held = registry ? cache.get(registry) : undefined;
  if (held) return held;
  const registers = registry ? [registry] : [];
  const metrics: WebhookMetrics = {
    pending: new Gauge({ name: 'herald_webhook_pending', help: 'Events held for a webhook target (queued, in flight or waiting to retry).', labelNames: ['target'], registers }),
    delivered: new Counter({ name: 'herald_webhook_delivered_total', help: 'Events a webhook target answered 2xx to.', labelNames: ['target'], registers }),
    retried: new Counter({ name: 'herald_webhook_retried_total', help: 'Failed webhook attempts that will be retried.', labelNames: ['target'], registers }),
    failed: new Counter({ name: 'herald_webhook_failed_total', help: 'Events given up on after the retry horizon (dead-lettered).', labelNames: ['target'], registers }),
    dropped: new Counter({ name: 'herald_webhook_dropped_total', help: 'Memory mode: events dropped because the target queue was full.', labelNames: ['target'], registers }),
    latency: new Histogram({
      name: 'herald_webhook_latency_seconds', help: 'Time from an event to its 2xx webhook answer.', labelNames: ['target'], registers,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600],
    }),
  };
  if (registry) cache.set(registry, metrics);
  return metrics;
}
