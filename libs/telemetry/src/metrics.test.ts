import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('exposes the default process metrics under their standard names, with the default labels', async () => {
    const text = await createMetricsRegistry({ node: 'n1' }).metrics();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toContain(`# HELP ${name} `);
    }
    expect(text).toMatch(/^process_cpu_seconds_total\{node="n1"\} /m);
    expect(text).not.toContain('herald_process_');
  });

  it('lets several registries live in one process', async () => {
    const a = await createMetricsRegistry().metrics();
    const b = await createMetricsRegistry().metrics();
    expect(a).toContain('# HELP process_cpu_seconds_total');
    expect(b).toContain('# HELP process_cpu_seconds_total');
  });
});
