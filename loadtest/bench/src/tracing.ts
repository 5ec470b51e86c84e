/**
 * `BENCH_SCENARIOS=tracing`: what request ids, trace context and OpenTelemetry spans cost on
 * the per-user path (docs/operations.md#request-ids-and-trace-context). One target
 * (BENCH_TRACING_TARGETS, default `herald-nats`), four modes, each a fresh start of the target
 * with the same users, connections, warm-up and rate, in BENCH_TRACING_ROUNDS rounds (the order
 * rotates each round, so drift on a shared machine does not always favour the same mode):
 * - `off`: requests without `x-request-id` or `traceparent`, HERALD_TRACING=off (the default);
 * - `headers`: every request sends `x-request-id` and `traceparent` (carried in NATS headers and
 *   logged by the gateway at debug, here at info), tracing off;
 * - `otel-api`: the same requests, HERALD_TRACING=otel with no SDK registered (the API is a no-op);
 * - `otel-sdk`: the same, with the OpenTelemetry SDK registered (otel-sdk.ts: every span recorded, none exported).
 * Reported: server CPU per delivery and per message by process, and each mode's ratio to `off`;
 * before the runs, each piece of added code on its own in this process (tracing-micro.ts).
 * @module
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { log } from './common.js';
import { connectPhase, deliveryPhase, fmtD, tokensFor, type DeliveryResult } from './phases.js';
import { ROOT, type TargetDef } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';
import { renderMicro, type MicroRow } from './tracing-micro.js';

export const TRACING_MODES = ['off', 'headers', 'otel-api', 'otel-sdk'] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

export interface TracingCfg {
  users: number;
  connsPerUser: number;
  rate: number;
  seconds: number;
  warmMessages: number;
  rounds: number;
  loadgens: number;
}

export interface TracingRun { mode: TracingMode; round: number; d: DeliveryResult }
export interface TracingResult { key: string; target: string; cfg: TracingCfg; runs: TracingRun[]; errors: string[] }

/** Headers a traced client sends (fixed values: parsing and carrying cost the same for any valid ones). */
const TRACE_HEADERS = { 'x-request-id': 'bench-req-0001', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
const SDK = pathToFileURL(join(ROOT, 'loadtest/bench/dist/otel-sdk.js')).href;

function modeSetup(mode: TracingMode): { env: Record<string, string>; nodeArgs: string[]; headers: Record<string, string> | undefined } {
  switch (mode) {
    case 'off': return { env: { HERALD_TRACING: 'off' }, nodeArgs: [], headers: undefined };
    case 'headers': return { env: { HERALD_TRACING: 'off' }, nodeArgs: [], headers: TRACE_HEADERS };
    case 'otel-api': return { env: { HERALD_TRACING: 'otel' }, nodeArgs: [], headers: TRACE_HEADERS };
    case 'otel-sdk': return { env: { HERALD_TRACING: 'otel' }, nodeArgs: ['--import', SDK], headers: TRACE_HEADERS };
    default: { const never: never = mode; throw new Error(`unknown mode ${String(never)}`); }
  }
}

async function runMode(t: TargetDef, mode: TracingMode, cfg: TracingCfg, tokens: string[]): Promise<DeliveryResult> {
  const { env, nodeArgs, headers } = modeSetup(mode);
  const run = await t.start(env, nodeArgs);
  const gens = await LoadGens.start(cfg.loadgens);
  const pub = await Publisher.start();
  try {
    const c = await connectPhase(run, gens, tokens, false);
    const per = c.connections / cfg.users;
    const body = { kind: 'user' as const, users: cfg.users, ...(headers ? { headers } : {}) };
    await deliveryPhase(run, { gens, pub }, `${mode} warm-up`, cfg.warmMessages, cfg.rate, per * cfg.warmMessages, body);
    const messages = Math.round(cfg.rate * cfg.seconds);
    return await deliveryPhase(run, { gens, pub }, `${mode} ${cfg.rate}/s`, messages, cfg.rate, per * messages, body);
  } finally {
    await endRun(gens, pub, run);
  }
}

export async function runTracing(t: TargetDef, cfg: TracingCfg): Promise<TracingResult> {
  const tokens = await tokensFor(0, cfg.users * cfg.connsPerUser, cfg.users);
  const out: TracingResult = { key: t.key, target: t.name, cfg, runs: [], errors: [] };
  for (let round = 0; round < cfg.rounds; round++) {
    for (let i = 0; i < TRACING_MODES.length; i++) {
      const mode = TRACING_MODES[(i + round) % TRACING_MODES.length] as TracingMode;
      log(`▶ tracing ${t.name}, round ${round + 1}/${cfg.rounds}: ${mode}`);
      try {
        const d = await runMode(t, mode, cfg, tokens);
        out.runs.push({ mode, round, d });
        log(`  ${mode}: ${fmtD(d)}`);
      } catch (err) {
        out.errors.push(`${mode} round ${round + 1}: ${err instanceof Error ? err.message : String(err)}`);
        log(`  ${mode} FAILED: ${out.errors.at(-1) ?? ''}`);
      }
    }
  }
  return out;
}

const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

/** Markdown: per mode the mean over rounds, per-process µs per message, ratio to `off`. */
export function renderTracing(r: TracingResult, command: string): string {
  const roles = [...new Set(r.runs.flatMap((x) => Object.keys(x.d.cpuByRoleMs)))];
  const byMode = (m: TracingMode): TracingRun[] => r.runs.filter((x) => x.mode === m);
  const usPerDelivery = (m: TracingMode): number => mean(byMode(m).map((x) => x.d.serverCpuUsPerDelivery));
  const usPerMsg = (m: TracingMode, role: string): number => mean(byMode(m).map((x) => ((x.d.cpuByRoleMs[role] ?? NaN) * 1000) / Math.max(1, x.d.messages)));
  const base = usPerDelivery('off');
  const L: string[] = [];
  L.push(`Tracing cost, \`${command}\`: ${r.target}, ${r.cfg.users} users × ${r.cfg.connsPerUser} connections, per-user messages at ${r.cfg.rate}/s for ${r.cfg.seconds} s after a ${r.cfg.warmMessages}-message warm-up, ${r.cfg.rounds} round(s) per mode (a fresh start each), on a shared 2-core machine: compare within this run.`);
  L.push('');
  L.push(`| mode | server CPU µs/delivery (mean of rounds) | vs off | ${roles.map((x) => `${x} µs/msg`).join(' | ')} | p99 ms | lost | rounds (µs/delivery) |`);
  L.push(`|---|---|---|${roles.map(() => '---').join('|')}|---|---|---|`);
  for (const m of TRACING_MODES) {
    const runs = byMode(m);
    if (runs.length === 0) continue;
    L.push(`| ${m} | ${f(usPerDelivery(m))} | ${f(usPerDelivery(m) / base)}× | ${roles.map((x) => f(usPerMsg(m, x), 1)).join(' | ')} | ${f(Math.max(...runs.map((x) => x.d.latencyMs.p99)), 0)} | ${runs.reduce((a, x) => a + x.d.lost, 0)} | ${runs.map((x) => f(x.d.serverCpuUsPerDelivery)).join(', ')} |`);
  }
  if (r.errors.length > 0) L.push('', `Failed runs: ${r.errors.join('; ')}`);
  return L.join('\n') + '\n';
}

export function writeTracing(results: TracingResult[], micro: MicroRow[], command: string): void {
  const dir = join(ROOT, 'loadtest/bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tracing.json'), JSON.stringify({ at: new Date().toISOString(), command, micro, results }, null, 2));
  const md = [renderMicro(micro), ...results.map((r) => renderTracing(r, command))].join('\n');
  writeFileSync(join(ROOT, 'loadtest/bench/RESULTS-tracing.md'), `# Tracing cost (last committed run)\n\nProduced by \`${command}\` (loadtest/bench/src/tracing.ts).\n\n` + md);
  process.stdout.write('\n' + md + '\n');
  log('written: loadtest/bench/results/tracing.json and loadtest/bench/RESULTS-tracing.md');
}
