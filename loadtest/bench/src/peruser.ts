/**
 * Per-user notifications, the main job of a push gateway: a backend sends one message to
 * one user (every connection of that user gets it), one HTTP request per message.
 *
 * Per target (a fresh start each, `users` × `connsPerUser` connections, warmed up first so
 * JIT compilation is not what is measured): each fixed rate of `rates` for `seconds`, with
 * server CPU per delivery split by process (publish API, gateway, nats-server for Herald
 * on NATS); for Herald a batch run (`POST /v1/publish/batch`, `batchSize` user messages
 * per request at the top rate); for the capacity targets the sustained per-user capacity
 * (highest rate held `sustainS` with no loss and p99 under PER_USER_P99_MS).
 * @module
 */
import { log } from './common.js';
import { findCapacity, type CapacityResult } from './capacity.js';
import { connectPhase, deliveryPhase, fmtD, type Clients, type DeliveryResult } from './phases.js';
import type { TargetDef } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';

/** The issue's definition of a held per-user rate: no loss and p99 under this. */
export const PER_USER_P99_MS = 50;

export interface PerUserCfg {
  users: number;
  connsPerUser: number;
  /** Fixed publish rates (messages/s), each measured for `seconds`. */
  rates: number[];
  seconds: number;
  /** Messages of the warm-up (at the lowest rate), not measured. */
  warmMessages: number;
  sustainS: number;
  probeS: number;
  /** User messages per batch request (0 skips the batch run). */
  batchSize: number;
  loadgens: number;
}

export interface RateRun { rate: number; d: DeliveryResult }

export interface PerUserResult {
  key: string;
  target: string;
  connections: number;
  rates: RateRun[];
  capacity?: CapacityResult;
  /** The batch run, at the top fixed rate (messages/s). */
  batch?: { rate: number; size: number; d: DeliveryResult };
  error?: string;
}

export interface PerUserPlan {
  capacity: boolean;
  batch: boolean;
  timeLeftS: () => number;
}

/**
 * Where the capacity search starts: just above the top fixed rate when the target held it
 * (no loss, p99 under the bound, the publisher on schedule), else below it. A guess from
 * CPU shares would assume a core to spare, which a shared machine rarely gives.
 */
function capacityStart(runs: RateRun[]): number {
  const top = runs[runs.length - 1];
  if (top === undefined) return 1000;
  const held = top.d.lost === 0 && top.d.latencyMs.p99 < PER_USER_P99_MS && top.d.publishedPerS >= 0.95 * top.rate;
  return held ? top.rate * 1.5 : top.rate / 1.5;
}

export async function runPerUser(t: TargetDef, idx: string, cfg: PerUserCfg, tokens: string[], plan: PerUserPlan): Promise<PerUserResult> {
  log(`▶ per-user ${idx} ${t.name}: starting`);
  const out: PerUserResult = { key: t.key, target: t.name, connections: 0, rates: [] };
  const run = await t.start();
  const gens = await LoadGens.start(cfg.loadgens);
  const pub = await Publisher.start();
  const cl: Clients = { gens, pub };
  try {
    const c = await connectPhase(run, gens, tokens, false);
    out.connections = c.connections;
    const per = c.connections / cfg.users;
    const body = { kind: 'user' as const, users: cfg.users };
    log(`  ${c.connections} connected (${c.failed} failed); warm-up ${cfg.warmMessages} messages`);
    const low = Math.min(...cfg.rates);
    await deliveryPhase(run, cl, 'warm-up', cfg.warmMessages, low, per * cfg.warmMessages, body);
    for (const rate of cfg.rates) {
      const messages = Math.round(rate * cfg.seconds);
      const d = await deliveryPhase(run, cl, `per-user ${rate}/s`, messages, rate, per * messages, body);
      out.rates.push({ rate, d });
      log(`  per-user ${rate}/s: ${fmtD(d)}; ${fmtRoles(d, messages)}`);
    }
    // the batch runs before the capacity search: that search fills every subject's history
    // to its limit, and JetStream then spends about twice the CPU per message (evictions)
    if (plan.batch && cfg.batchSize > 1) {
      const rate = Math.max(...cfg.rates);
      const messages = Math.round(rate * cfg.seconds);
      const d = await deliveryPhase(run, cl, `batch ×${cfg.batchSize} at ${rate}/s`, messages, rate, per * messages, { ...body, batch: cfg.batchSize });
      out.batch = { rate, size: cfg.batchSize, d };
      log(`  batch ×${cfg.batchSize} at ${rate}/s: ${fmtD(d)}; ${fmtRoles(d, messages)}`);
    }
    if (plan.capacity) {
      const start = capacityStart(out.rates);
      log(`  per-user capacity: probes of ${cfg.probeS} s from ${start.toFixed(0)}/s, confirm ${cfg.sustainS} s`);
      out.capacity = await findCapacity(run, cl, {
        subscribers: per, startRate: start, probeS: cfg.probeS, sustainS: cfg.sustainS, body, p99Ms: PER_USER_P99_MS, timeLeftS: plan.timeLeftS,
      });
      log(`  per-user capacity: ${out.capacity.messagesPerS === undefined ? 'not found' : `${out.capacity.messagesPerS}/s`}`);
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log(`  FAILED: ${out.error}`);
  } finally {
    await endRun(gens, pub, run);
  }
  return out;
}

/** µs of CPU per message of each role. */
export const usPerMessage = (d: DeliveryResult, role: string, messages = d.messages): number | undefined =>
  d.cpuByRoleMs[role] === undefined ? undefined : (d.cpuByRoleMs[role] * 1000) / Math.max(1, messages);

const fmtRoles = (d: DeliveryResult, messages: number): string =>
  Object.keys(d.cpuByRoleMs).map((r) => `${r} ${(usPerMessage(d, r, messages) ?? NaN).toFixed(1)} µs/msg`).join(', ');
