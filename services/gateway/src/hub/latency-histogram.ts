/**
 * HOT PATH: the delivery latency histogram, observed once per delivered message. prom-client's
 * Histogram.observe hashes its labels and builds a closure on every call (~90 ns measured);
 * this one has no labels (the registry's default `node` label is added at scrape) and costs a
 * bucket scan and three additions. It registers as an ordinary metric: the registry formats it
 * like any prom-client histogram (`_bucket{le}`, `_sum`, `_count`).
 */
import type { Registry } from '@herald/telemetry';

interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(readonly name: string, readonly help: string, buckets: readonly number[], registry: Registry) {
    this.#bounds = [...buckets].sort((a, b) => a - b);
    this.#counts = new Float64Array(this.#bounds.length + 1); // the last slot is +Inf
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Counts one observation, in seconds. */
  observe(seconds: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += seconds;
    this.#count++;
  }

  /** The samples in prom-client's shape (cumulative buckets), read by the registry at scrape. */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.#bounds.length; i++) {
      cumulative += this.#counts[i] as number;
      const le = i < this.#bounds.length ? (this.#bounds[i] as number) : '+Inf';
      values.push({ value: cumulative, labels: { le }, metricName: `${this.name}_bucket` });
    }
    values.push({ value: this.#sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.#count, labels: {}, metricName: `${this.name}_count` });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.#counts.fill(0);
    this.#sum = 0;
    this.#count = 0;
  }
}
