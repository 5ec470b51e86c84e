/** What a run costs the machine: process memory, node metrics, kernel TCP counters, quantiles. */
import { readFileSync } from 'node:fs';

/** VmRSS and VmHWM (peak RSS) of a process, MB; undefined once it is gone. */
export function memoryMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples the VmRSS of processes every `intervalMs` and keeps each one's peak. */
export class RssSampler {
  readonly peakMb = new Map<number, number>();
  samples = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pids: readonly number[], intervalMs = 50) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.samples++;
    for (const pid of this.pids) {
      const m = memoryMb(pid);
      if (m) this.peakMb.set(pid, Math.max(this.peakMb.get(pid) ?? 0, m.rss));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }
}

/** The sum of one metric on a node's /metrics over the series whose labels contain `match` (e.g. `result="503"`). */
export async function metric(port: number, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) if ((m[1] ?? '').includes(match)) sum += Number(m[2]);
  return sum;
}

/** p-quantile of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** The kernel's TcpExt counters (/proc/net/netstat), e.g. ListenOverflows: system-wide, so other processes count too. */
export function tcpExt(): Map<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const keys = (lines[i] as string).split(/\s+/);
    const vals = (lines[i + 1] as string).split(/\s+/);
    if (keys[0] !== 'TcpExt:') continue;
    keys.forEach((k, j) => j > 0 && out.set(k, Number(vals[j])));
  }
  return out;
}
