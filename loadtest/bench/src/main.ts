/**
 * `npm run bench`: Herald against its baselines, one target after another, each started
 * and stopped by the bench, driven by the same load generators (BENCH_LOADGENS separate
 * processes, default 2). Targets: the raw-uWS ceiling, Herald dev (memory bus), Herald on
 * NATS (gateway + publish-api + nats-server), "by hand" (ws + NATS + jose), socket.io.
 *
 * BENCH_SCENARIOS picks the groups (default `peruser,classic`; `tracing`, tracing.ts, runs only
 * when named; `idle` alone measures only memory per idle connection, ceiling and Herald, without `classic`). `peruser` (peruser.ts):
 * BENCH_PERUSER_USERS (2000) users × BENCH_CONNS_PER_USER, messages to random users at each
 * of BENCH_PERUSER_RATES (500,3000) for BENCH_PERUSER_S (10) after a warm-up, CPU split per
 * process, a per-user capacity search for the ceiling and Herald, a batch run
 * (BENCH_BATCH_SIZE, 100) for Herald; BENCH_PERUSER_TARGETS narrows the targets. The rest
 * below is `classic`.
 *
 * Scenarios per target: connect (BENCH_CONNS authenticated connections, BENCH_CONNS_PER_USER
 * per user, each subscribed to one topic), fan-out (BENCH_MESSAGES at BENCH_RATE/s to the
 * topic), per-user (BENCH_USER_MESSAGES at BENCH_USER_RATE/s to random users), a big
 * fan-out (BENCH_BIG_CONNS subscribers, BENCH_BIG_MESSAGES at BENCH_BIG_RATE/s; 0 skips).
 * For the ceiling, Herald dev and Herald on NATS also: sustained capacity (the highest
 * fan-out rate held BENCH_SUSTAIN_S with no loss and p99 < 100 ms, found with
 * BENCH_PROBE_S probes) and latency at half the ceiling's capacity (BENCH_HALF_S).
 * Then memory per idle connection (BENCH_IDLE_CONNS, a fresh target each), Herald on 2
 * NATS gateways (bus interest vs deliveries of personal channels) and permessage-deflate
 * (off / shared / dedicated). Messages come from a separate publisher process, open-loop.
 * BENCH_BUDGET_S (600) bounds the run: optional parts are skipped once it is spent.
 * BENCH_HERALD_ENV: a JSON object of extra variables for every process a target starts (an A/B of
 * one Herald setting, e.g. `{"HERALD_INBOX":"false"}`).
 * NATS_SERVER_BIN (default /usr/sbin/nats-server, Debian 12's 2.9.10): the nats-server the NATS
 * targets run, named with its version in the results (RESULTS-peruser-nats-2.10.md: 2.10.27).
 * Writes loadtest/bench/results/latest.{json,md,html} and loadtest/bench/RESULTS.md.
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { TOPIC, elapsedS, log } from './common.js';
import { findCapacity } from './capacity.js';
import { runCompression, type CompressionResult } from './compression.js';
import { runIdle, type IdleResult } from './idle.js';
import { runInterest, type InterestResult } from './interest.js';
import { connectPhase, deliveryPhase, fmtD, tokensFor, type Clients } from './phases.js';
import { ROOT, byHand, ceiling, heraldDev, heraldNats, socketIo, type Running, type TargetDef } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';
import { natsServerVersion } from './procstat.js';
import { NATS_SERVER_BIN } from '@herald/testkit';
import { runPerUser, type PerUserCfg, type PerUserResult } from './peruser.js';
import { runTracing, writeTracing, type TracingCfg } from './tracing.js';
import { runTracingMicro } from './tracing-micro.js';
import { renderHtml, renderMarkdown, type Report, type TargetResult } from './report.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
export const CFG = {
  conns: env('BENCH_CONNS', 1000),
  connsPerUser: env('BENCH_CONNS_PER_USER', 2),
  messages: env('BENCH_MESSAGES', 300),
  rate: env('BENCH_RATE', 100),
  userMessages: env('BENCH_USER_MESSAGES', 2000),
  userRate: env('BENCH_USER_RATE', 400),
  bigConns: env('BENCH_BIG_CONNS', 5000),
  bigMessages: env('BENCH_BIG_MESSAGES', 100),
  bigRate: env('BENCH_BIG_RATE', 20),
  loadgens: env('BENCH_LOADGENS', 2),
  budgetS: env('BENCH_BUDGET_S', 1200),
  compressConns: env('BENCH_COMPRESS_CONNS', 500),
  compressMessages: env('BENCH_COMPRESS_MESSAGES', 200),
  /** Seconds a capacity must hold (the confirm run). */
  sustainS: env('BENCH_SUSTAIN_S', 30),
  /** Seconds per capacity probe. */
  probeS: env('BENCH_PROBE_S', 4),
  /** Seconds at half the ceiling's capacity. */
  halfS: env('BENCH_HALF_S', 10),
  /** Idle connections for memory; under the 20,000 descriptors one process may hold here. 0 skips. */
  idleConns: env('BENCH_IDLE_CONNS', 19_500),
};
/** The per-user scenarios (the issue's production path). */
export const PER_USER: PerUserCfg = {
  users: env('BENCH_PERUSER_USERS', 2000),
  connsPerUser: env('BENCH_CONNS_PER_USER', 2),
  rates: (process.env['BENCH_PERUSER_RATES'] ?? '500,3000').split(',').map(Number).filter((n) => n > 0),
  seconds: env('BENCH_PERUSER_S', 10),
  warmMessages: env('BENCH_PERUSER_WARM', 3000),
  sustainS: CFG.sustainS,
  probeS: CFG.probeS,
  batchSize: env('BENCH_BATCH_SIZE', 100),
  loadgens: CFG.loadgens,
};
/**
 * BENCH_SCENARIOS: comma-separated groups, default both. `peruser`: per-user notifications
 * (fixed rates, capacity, batch, CPU per process); `classic`: connect, fan-out, big fan-out,
 * capacity and half load to a topic, idle memory, interest routing, permessage-deflate.
 */
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'peruser,classic').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const FULL = SCENARIOS.includes('peruser') && SCENARIOS.includes('classic');
/**
 * `tracing` (tracing.ts, not in the default run): the cost of request ids, trace context and
 * OpenTelemetry spans on the per-user path, on BENCH_TRACING_TARGETS (default `herald-nats`).
 */
const TRACING: TracingCfg = {
  users: env('BENCH_TRACING_USERS', 1000),
  connsPerUser: env('BENCH_CONNS_PER_USER', 2),
  rate: env('BENCH_TRACING_RATE', 1000),
  seconds: env('BENCH_TRACING_S', 10),
  warmMessages: env('BENCH_TRACING_WARM', 2000),
  rounds: env('BENCH_TRACING_ROUNDS', 2),
  loadgens: CFG.loadgens,
};
const TRACING_TARGETS = (process.env['BENCH_TRACING_TARGETS'] ?? 'herald-nats').split(',').map((s) => s.trim());
/** BENCH_PERUSER_TARGETS: target keys of the per-user scenarios (default every target). */
const PER_USER_TARGETS = (process.env['BENCH_PERUSER_TARGETS'] ?? 'ceiling,herald-dev,herald-nats,byhand,socketio').split(',').map((s) => s.trim());
const overBudget = (reserveS = 0): boolean => elapsedS() + reserveS > CFG.budgetS;
// Rough durations (s) at the default sizes, to decide what still fits in the budget.
const CAPACITY_EST_S = 90;
const IDLE_EST_S = 20;
const REST_EST_S = 2 * IDLE_EST_S + 30 + 35 + 10 + 30; // idle ×2, by hand, socket.io, interest, compression
/** Targets measured for capacity and latency at half load (the issue's comparisons). */
const CAPACITY_KEYS = ['ceiling', 'herald-dev', 'herald-nats'];

/** What later targets need from earlier ones. */
interface RunState { ceilingCapacity: number | undefined }

async function capacityAndHalf(t: TargetDef, out: TargetResult, run: Running, cl: Clients, n: number, st: RunState): Promise<void> {
  // the NATS target's search is optional: it runs only if the rest still fits in the budget
  const required = t.key !== 'herald-nats';
  if (required ? overBudget(0) : overBudget(CAPACITY_EST_S + REST_EST_S)) log(`  capacity: skipped, budget spent`);
  else {
    // start near the estimate: the ceiling from its fan-out CPU cost (a core's worth, less the
    // load generators' share of the machine), Herald from the ceiling's capacity
    const perMsgUs = (out.fanout?.serverCpuUsPerDelivery ?? 10) * n;
    const start = st.ceilingCapacity !== undefined ? 0.8 * st.ceilingCapacity : Math.min(5000, Math.max(5, (0.6 * 1e6) / perMsgUs));
    log(`  sustained capacity: ${n} subscribers, probes of ${CFG.probeS} s from ${start.toFixed(0)}/s, confirm ${CFG.sustainS} s`);
    out.capacity = await findCapacity(run, cl, { subscribers: n, startRate: start, probeS: CFG.probeS, sustainS: CFG.sustainS, timeLeftS: () => CFG.budgetS - elapsedS() });
    const cap = out.capacity.messagesPerS;
    log(`  sustained capacity: ${cap === undefined ? 'not found' : `${cap}/s (${out.capacity.deliveriesPerS} deliveries/s)`}`);
    if (t.key === 'ceiling') st.ceilingCapacity = cap;
  }
  if (st.ceilingCapacity === undefined) { log(`  half load: skipped, no ceiling capacity`); return; }
  const rate = Math.max(1, Math.round(st.ceilingCapacity / 2));
  const messages = Math.round(rate * CFG.halfS);
  const d = await deliveryPhase(run, cl, `half load ${rate}/s`, messages, rate, n * messages, { kind: 'topic', topic: TOPIC });
  out.halfLoad = { ...d, rate };
  log(`  half load (${rate}/s): ${fmtD(d)}`);
}

async function runTarget(t: TargetDef, idx: string, tokens: string[], users: number, st: RunState): Promise<TargetResult> {
  log(`▶ ${idx} ${t.name}: starting`);
  const out: TargetResult = { key: t.key, target: t.name };
  const run = await t.start();
  const gens = await LoadGens.start(CFG.loadgens);
  const pub = await Publisher.start();
  const cl: Clients = { gens, pub };
  try {
    log(`  connect: ${tokens.length} authenticated sockets (${users} users × ${CFG.connsPerUser})…`);
    out.connect = await connectPhase(run, gens, tokens, false);
    log(`  ${out.connect.connections} connected (${out.connect.failed} failed), ${out.connect.connectPerS.toFixed(0)}/s, ${(out.connect.rssPerConnBytes / 1024).toFixed(1)} KiB/conn`);
    const n = out.connect.connections;
    out.fanout = await deliveryPhase(run, cl, 'fan-out', CFG.messages, CFG.rate, n * CFG.messages, { kind: 'topic', topic: TOPIC });
    log(`  fan-out: ${fmtD(out.fanout)}`);
    const per = n / users;
    out.perUser = await deliveryPhase(run, cl, 'per-user', CFG.userMessages, CFG.userRate, per * CFG.userMessages, { kind: 'user', users });
    log(`  per-user: ${fmtD(out.perUser)}`);
    if (CAPACITY_KEYS.includes(t.key)) await capacityAndHalf(t, out, run, cl, n, st);
    if (CFG.bigConns > n && !overBudget(120)) {
      log(`  big fan-out: adding ${CFG.bigConns - n} subscribers…`);
      await gens.reconnect(); // sockets an overloaded capacity probe lost come back first
      const more = await tokensFor(n, CFG.bigConns, CFG.bigConns);
      const c = await gens.connect(run.protocol, run.wsUrls, more, false);
      const subs = c.count; // the generators report every socket they hold
      const big = await deliveryPhase(run, cl, `fan-out ×${subs}`, CFG.bigMessages, CFG.bigRate, subs * CFG.bigMessages, { kind: 'topic', topic: TOPIC });
      out.bigFanout = { ...big, subscribers: subs };
      log(`  big fan-out (${subs}): ${fmtD(big)}`);
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log(`  FAILED: ${out.error}`);
  } finally {
    await endRun(gens, pub, run);
  }
  return out;
}

/** Memory per idle connection for `targets` (each a fresh process); `reserveS` leaves room for what follows. */
async function runIdleFor(targets: TargetDef[], tokens: string[], reserveS: number): Promise<IdleResult[]> {
  const out: IdleResult[] = [];
  for (const t of targets) {
    if (overBudget(reserveS)) { log(`▶ idle memory: ${t.name} skipped, budget spent`); continue; }
    try { out.push(await runIdle(t, tokens, CFG.loadgens)); } catch (err) { log(`  idle memory failed: ${String(err)}`); }
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const load0 = loadavg()[0] ?? NaN;
  log(`bench: scenarios ${SCENARIOS.join(',')}; ${JSON.stringify(CFG)}; per-user ${JSON.stringify(PER_USER)}; budget ${CFG.budgetS} s`);
  const targets = [ceiling, heraldDev, heraldNats(1), byHand, socketIo];
  if (SCENARIOS.includes('tracing')) {
    const micro = runTracingMicro();
    const results = [];
    for (const t of targets.filter((x) => TRACING_TARGETS.includes(x.key))) results.push(await runTracing(t, TRACING));
    writeTracing(results, micro, `BENCH_SCENARIOS=${SCENARIOS.join(',')} npm run bench`);
    if (SCENARIOS.every((s) => s === 'tracing')) return;
  }
  const perUser = SCENARIOS.includes('peruser') ? await runPerUserAll(targets) : [];
  const classic: Classic = SCENARIOS.includes('classic') ? await runClassic(targets)
    : { results: [], idle: SCENARIOS.includes('idle') ? await runIdleOnly() : [], interest: undefined, compression: [] };
  const report: Report = {
    at: new Date().toISOString(),
    command: (process.env['NATS_SERVER_BIN'] ? `NATS_SERVER_BIN=${process.env['NATS_SERVER_BIN']} ` : '') + (FULL ? 'npm run bench' : `BENCH_SCENARIOS=${SCENARIOS.join(',')} npm run bench`),
    natsServer: natsServerVersion(NATS_SERVER_BIN),
    cfg: CFG, durationS: elapsedS(), loadAvg: [load0, loadavg()[0] ?? NaN], scenarios: SCENARIOS, perUserCfg: PER_USER, perUser, ...classic,
  };
  writeReport(report);
}

/** The per-user scenarios for every selected target; the capacity search for the ceiling and Herald. */
async function runPerUserAll(targets: TargetDef[]): Promise<PerUserResult[]> {
  const tokens = await tokensFor(0, PER_USER.users * PER_USER.connsPerUser, PER_USER.users);
  const chosen = targets.filter((t) => PER_USER_TARGETS.includes(t.key));
  const out: PerUserResult[] = [];
  for (const [i, t] of chosen.entries()) {
    const capacity = CAPACITY_KEYS.includes(t.key) && PER_USER.sustainS > 0;
    const r = await runPerUser(t, `${i + 1}/${chosen.length}`, PER_USER, tokens, {
      capacity, batch: t.key.startsWith('herald'), timeLeftS: () => CFG.budgetS - elapsedS(),
    });
    out.push(r);
  }
  return out;
}

/** `BENCH_SCENARIOS=idle`: memory per idle connection only, for the ceiling, Herald dev and Herald on NATS (each fresh). */
async function runIdleOnly(): Promise<IdleResult[]> {
  const idleTokens = await tokensFor(0, CFG.idleConns, CFG.idleConns);
  return runIdleFor([ceiling, heraldDev, heraldNats(1)], idleTokens, 0);
}

interface Classic { results: TargetResult[]; idle: IdleResult[]; interest: InterestResult | undefined; compression: CompressionResult[] }

async function runClassic(targets: TargetDef[]): Promise<Classic> {
  const users = Math.max(1, Math.floor(CFG.conns / CFG.connsPerUser));
  const tokens = await tokensFor(0, users * CFG.connsPerUser, users);
  const results: TargetResult[] = [];
  const st: RunState = { ceilingCapacity: undefined };
  // one user per idle connection: each brings its own personal channel
  const idleTokens = CFG.idleConns > 0 ? await tokensFor(0, CFG.idleConns, CFG.idleConns) : [];
  const idle: IdleResult[] = [];
  for (const [i, t] of targets.entries()) {
    // the issue's comparisons (ceiling, Herald) come first; the baselines after them may be skipped
    if (i === 3 && idleTokens.length > 0) idle.push(...await runIdleFor([ceiling, heraldDev], idleTokens, 0));
    if (i > 1 && overBudget(60)) { log(`▶ ${t.name}: skipped, budget spent`); results.push({ key: t.key, target: t.name, error: 'skipped (budget)' }); continue; }
    results.push(await runTarget(t, `${i + 1}/${targets.length}`, tokens, users, st));
  }
  // optional: leave room for the interest and compression scenarios
  if (idleTokens.length > 0) idle.push(...await runIdleFor([heraldNats(1)], idleTokens, IDLE_EST_S + 60));
  let interest: InterestResult | undefined;
  if (!overBudget(45)) {
    try { interest = await runInterest(CFG.connsPerUser, CFG.userRate); } catch (err) { log(`  interest scenario failed: ${String(err)}`); }
  }
  let compression: CompressionResult[] = [];
  if (!overBudget(60)) {
    compression = await runCompression({ conns: CFG.compressConns, messages: CFG.compressMessages, rate: CFG.rate, loadgens: CFG.loadgens, overBudget });
  }
  return { results, idle, interest, compression };
}

/** latest.{json,md,html}; RESULTS.md for a full run, RESULTS-<scenario>.md for a partial one. */
function writeReport(report: Report): void {
  const dir = join(ROOT, 'loadtest/bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
  const md = renderMarkdown(report);
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(join(dir, 'latest.html'), renderHtml(report, md));
  const name = FULL ? 'RESULTS.md' : `RESULTS-${SCENARIOS.join('-')}.md`;
  writeFileSync(join(ROOT, 'loadtest/bench', name), `# Benchmark results (last committed run)\n\nProduced by \`${report.command}\` (loadtest/bench); the machine and sizes are in the text below.\n\n` + md);
  process.stdout.write('\n' + md + '\n');
  log(`written: loadtest/bench/results/latest.{json,md,html} and loadtest/bench/${name} (${elapsedS().toFixed(0)} s)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
