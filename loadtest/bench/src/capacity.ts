/**
 * Sustained capacity: the highest publish rate (to one topic, or to random users) that a
 * target holds for `sustainS` seconds with no loss and p99 under a bound (100 ms for the
 * topic, 50 ms per user). Short probes find it (grow ×1.5
 * from an estimate until one fails, then bisect twice), then a long run confirms it,
 * stepping down 15% per failed confirm (bounded attempts).
 * @module
 */
import { TOPIC, log } from './common.js';
import { measure, type Clients, type DeliveryResult, type WaitOpts } from './phases.js';
import type { BodySpec } from './publisher.js';
import type { Running } from './targets.js';

/** The issue's definition of "holds": no loss and p99 under this. */
export const CAPACITY_P99_MS = 100;
/** The publisher must reach this share of the requested rate, or the target did not keep up. */
const MIN_ACHIEVED_SHARE = 0.95;
const GROWTH = 1.5;
const BISECTIONS = 2;
const MAX_PROBES = 9;
const CONFIRM_STEP_DOWN = 0.85;
// A 4 s probe can pass where 30 s do not (queues build slowly on a busy 2-core box): keep stepping down.
const MAX_CONFIRMS = 5;
// Probes end as soon as deliveries stop for a second: a late delivery arriving in the next
// probe would hide its loss, and an overloaded probe must not eat the budget.
const PROBE_WAIT: WaitOpts = { quietMs: 1000, maxMs: 8000 };
const CONFIRM_WAIT: WaitOpts = { quietMs: 2000, maxMs: 15_000 };

export interface Probe {
  rate: number; seconds: number; confirm: boolean; pass: boolean;
  /** Why it failed ('' when it passed). */
  why: string;
  lost: number; p99: number; publishedPerS: number; serverCpuPct: number;
}

export interface CapacityResult {
  subscribers: number;
  probeS: number;
  sustainS: number;
  probes: Probe[];
  /** The rate held for sustainS, messages/s; undefined when no confirm passed. */
  messagesPerS: number | undefined;
  /** messagesPerS × subscribers (the confirm lost nothing). */
  deliveriesPerS: number | undefined;
  /** The last confirm run (the passing one when the capacity was found). */
  confirm: DeliveryResult | undefined;
}

export interface CapacityOpts {
  /** Deliveries per message (the topic's subscribers, or connections per user). */
  subscribers: number; startRate: number; probeS: number; sustainS: number;
  /** What is published (default: the bench topic). */
  body?: BodySpec;
  /** The p99 bound of "holds" (default CAPACITY_P99_MS). */
  p99Ms?: number;
  /** Seconds left in the bench's budget: a step-down confirm runs only if it fits. */
  timeLeftS: () => number;
}

function judgeRun(d: DeliveryResult, rate: number, p99Ms: number): string {
  const why: string[] = [];
  if (d.lost > 0) why.push(`lost ${d.lost}`);
  if (!(d.latencyMs.p99 < p99Ms)) why.push(`p99 ${d.latencyMs.p99} ms`);
  if (d.publishErrors > 0) why.push(`${d.publishErrors} publish errors`);
  if (d.publishedPerS < rate * MIN_ACHIEVED_SHARE) why.push(`published only ${d.publishedPerS.toFixed(0)}/s`);
  return why.join(', ');
}

export async function findCapacity(run: Running, cl: Clients, o: CapacityOpts): Promise<CapacityResult> {
  const probes: Probe[] = [];
  const body: BodySpec = o.body ?? { kind: 'topic', topic: TOPIC };
  const p99Ms = o.p99Ms ?? CAPACITY_P99_MS;
  const judge = (d: DeliveryResult, rate: number): string => judgeRun(d, rate, p99Ms);
  const attempt = async (rate: number, seconds: number, confirm: boolean): Promise<DeliveryResult> => {
    const messages = Math.max(1, Math.round(rate * seconds));
    const label = `${confirm ? 'confirm' : 'probe'} ${rate}/s × ${seconds} s`;
    const { d } = await measure(run, cl, label, messages, rate, o.subscribers * messages, body, confirm ? CONFIRM_WAIT : PROBE_WAIT);
    const why = judge(d, rate);
    probes.push({ rate, seconds, confirm, pass: why === '', why, lost: d.lost, p99: d.latencyMs.p99, publishedPerS: d.publishedPerS, serverCpuPct: d.serverCpuPct });
    log(`  ${label}: ${why === '' ? 'holds' : `fails (${why})`}; p50/p99 ${d.latencyMs.p50}/${d.latencyMs.p99} ms, server CPU ${d.serverCpuPct.toFixed(0)}% of a core`);
    return d;
  };

  let lo: number | undefined; // highest rate that passed
  let hi: number | undefined; // lowest rate that failed
  let rate = Math.max(1, Math.round(o.startRate));
  let bisections = 0;
  for (let i = 0; i < MAX_PROBES; i++) {
    const pass = judge(await attempt(rate, o.probeS, false), rate) === '';
    if (pass) lo = rate;
    else hi = rate;
    let nextRate: number;
    if (lo !== undefined && hi !== undefined) {
      if (bisections >= BISECTIONS) break;
      bisections++;
      nextRate = Math.round((lo + hi) / 2);
    } else nextRate = Math.round(pass ? rate * GROWTH : rate / GROWTH);
    if (nextRate < 1 || nextRate === lo || nextRate === hi) break;
    rate = nextRate;
  }
  const out: CapacityResult = { subscribers: o.subscribers, probeS: o.probeS, sustainS: o.sustainS, probes, messagesPerS: undefined, deliveriesPerS: undefined, confirm: undefined };
  if (lo === undefined) return out;
  rate = lo;
  for (let i = 0; i < MAX_CONFIRMS && rate >= 1; i++) {
    if (i > 0 && o.timeLeftS() < o.sustainS + 10) { log(`  confirm: no budget left for another ${o.sustainS} s run`); break; }
    const d = await attempt(rate, o.sustainS, true);
    out.confirm = d;
    if (judge(d, rate) === '') {
      // no loss, so every message reached every subscriber at the held rate
      out.messagesPerS = rate;
      out.deliveriesPerS = rate * o.subscribers;
      break;
    }
    rate = Math.round(rate * CONFIRM_STEP_DOWN);
  }
  return out;
}
