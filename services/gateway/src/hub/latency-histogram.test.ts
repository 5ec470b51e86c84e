// The hand-made latency histogram must expose exactly what a prom-client Histogram would for the same observations.
import { describe, expect, it } from 'vitest';
import { Histogram, createMetricsRegistry } from '@herald/telemetry';
import { LatencyHistogram } from './latency-histogram.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.1, 1];

describe('LatencyHistogram', () => {
  it('renders the same exposition as prom-client, default labels included', async () => {
    const mine = createMetricsRegistry({ node: 'n1' });
    const theirs = createMetricsRegistry({ node: 'n1' });
    const a = new LatencyHistogram('lat_seconds', 'help text', BUCKETS, mine);
    const b = new Histogram({ name: 'lat_seconds', help: 'help text', buckets: BUCKETS, registers: [theirs] });
    const only = async (r: typeof mine): Promise<string> => (await r.metrics()).split('\n\n').find((block) => block.includes('lat_seconds')) ?? '';
    expect(await only(mine)).toBe(await only(theirs));
    for (const v of [0, 0.001, 0.0011, 0.005, 0.05, 0.1, 0.99, 1, 3, 120]) {
      a.observe(v);
      b.observe(v);
    }
    expect(await only(mine)).toBe(await only(theirs));
    expect(mine.getSingleMetric('lat_seconds')).toBe(a);
    a.reset();
    expect(await only(mine)).toContain('lat_seconds_count{node="n1"} 0');
  });
});
