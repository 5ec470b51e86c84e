/** Percentiles over latency samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { count: s.length, p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9), max: s[s.length - 1] ?? NaN };
}

/** Summary of a histogram of integer samples (value → count). */
export function fromHistogram(hist: ReadonlyMap<number, number>): Summary {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  let count = 0;
  for (const k of keys) count += hist.get(k) as number;
  const at = (p: number): number => {
    if (count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * count));
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k) as number;
      if (seen >= rank) return k;
    }
    return keys[keys.length - 1] as number;
  };
  return { count, p50: at(50), p99: at(99), p999: at(99.9), max: keys[keys.length - 1] ?? NaN };
}
