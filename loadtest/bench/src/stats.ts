/**
 * The bench's statistics, shared by every scenario (bench, soak, storm): one definition of
 * a percentile (nearest rank), over sorted samples or over a histogram.
 * @module
 */

/** Nearest rank of percentile `p` among `count` samples (1-based; 0 when there are none). */
function rankOf(p: number, count: number): number {
  return count === 0 ? 0 : Math.min(count, Math.max(1, Math.ceil((p / 100) * count)));
}

/** Percentile `p` of ascending `sorted` samples; NaN when there are none. */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = rankOf(p, sorted.length);
  return rank === 0 ? NaN : (sorted[rank - 1] as number);
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

/** Summary of a histogram of integer samples (value → count), with the same percentile definition. */
export function fromHistogram(hist: ReadonlyMap<number, number>): Summary {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  let count = 0;
  for (const k of keys) count += hist.get(k) as number;
  const at = (p: number): number => {
    const rank = rankOf(p, count);
    if (rank === 0) return NaN;
    let seen = 0;
    for (const k of keys) {
      seen += hist.get(k) as number;
      if (seen >= rank) return k;
    }
    return keys[keys.length - 1] as number;
  };
  return { count, p50: at(50), p99: at(99), p999: at(99.9), max: keys[keys.length - 1] ?? NaN };
}
