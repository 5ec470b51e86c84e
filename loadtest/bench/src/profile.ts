/**
 * `npm run bench:profile`: the profile evidence behind the bench's ratios. Runs the ceiling
 * and Herald dev under `node --cpu-prof` through the same per-user and fan-out load as
 * `npm run bench` (after a warm-up, so JIT compilation is not what is measured), then
 * writes each V8 CPU profile (open it in Chrome DevTools → Performance, or speedscope, for
 * a flame graph) and a summary: CPU per delivery of the whole process (kernel included),
 * the share the JavaScript profile accounts for, and the functions with the most self time.
 *
 * PROFILE_CONNS (1000), PROFILE_USER_MESSAGES (2000 measured, as many before as warm-up),
 * PROFILE_USER_RATE (400/s), PROFILE_FANOUT_MESSAGES (300 at PROFILE_FANOUT_RATE 100/s),
 * PROFILE_TARGETS (`ceiling,herald-dev`; `herald-nats` profiles its gateway and publish API
 * apart). Writes loadtest/bench/results/profile/<target>[-<process>].cpuprofile and profile.md.
 * The V8 profiler samples wall-clock time of the JavaScript thread: a process descheduled in
 * a system call (a busy machine) shows that call larger than its CPU time.
 *
 * PROFILE_TOOL=callgrind: instead, Herald on NATS with its publish API and gateway under
 * `valgrind --tool=callgrind` (instrumentation off until the measured phase), and the
 * instructions each executes per single publish, per message in batches, per delivery:
 * counts that do not depend on how busy the machine is, to compare a change before/after.
 * PROFILE_CONNS (200 here), PROFILE_USER_MESSAGES (400 at PROFILE_USER_RATE 50/s),
 * PROFILE_BATCH_MESSAGES (2000 in requests of 100 at PROFILE_BATCH_RATE 100/s), after a warm-up
 * of PROFILE_WARMUP_MESSAGES (3000 single at PROFILE_WARMUP_RATE 200/s, twice as many in batches). Writes
 * results/profile/callgrind/<role>.out.<n> (read with callgrind_annotate) and callgrind.md.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { log } from './common.js';
import { cpuOf, connectPhase, deliveryPhase, measure, tokensFor, type DeliveryResult } from './phases.js';
import { ROOT, ceiling, heraldDev, heraldNats, type TargetDef } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';
import type { BodySpec } from './publisher.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const CONNS = env('PROFILE_CONNS', 1000);

const CALLGRIND = process.env['PROFILE_TOOL'] === 'callgrind';
const USER_MESSAGES = env('PROFILE_USER_MESSAGES', CALLGRIND ? 400 : 2000);
const USER_RATE = env('PROFILE_USER_RATE', CALLGRIND ? 50 : 400);
const BATCH_MESSAGES = env('PROFILE_BATCH_MESSAGES', 2000);
const BATCH_RATE = env('PROFILE_BATCH_RATE', 100);
const WARMUP = env('PROFILE_WARMUP_MESSAGES', 3000);
const WARMUP_RATE = env('PROFILE_WARMUP_RATE', 200);
const FANOUT_MESSAGES = env('PROFILE_FANOUT_MESSAGES', 300);
const FANOUT_RATE = env('PROFILE_FANOUT_RATE', 100);
const OUT = join(ROOT, 'loadtest/bench/results/profile');
/** PROFILE_TARGETS: ceiling, herald-dev, herald-nats (one profile per Herald process: gateway-0, publish-api). */
const TARGETS = (process.env['PROFILE_TARGETS'] ?? 'ceiling,herald-dev').split(',').map((s) => s.trim());

/** The parts of a V8 `.cpuprofile` the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

interface FunctionTime { name: string; ms: number; share: number }
interface ProfileSummary { totalMs: number; idleMs: number; gcMs: number; busyMs: number; top: FunctionTime[] }

/** Self time per function (`name file:line`), with idle, GC and the rest of the profile apart. */
export function summarizeProfile(p: CpuProfile, topN = 20): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    total += us;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    if (frame.functionName === '(idle)') { idle += us; return; }
    if (frame.functionName === '(garbage collector)') gc += us;
    const file = frame.url.replace(/^file:\/\//, '').replace(ROOT + '/', '');
    const key = `${frame.functionName || '(anonymous)'} ${file}${file ? ':' + (frame.lineNumber + 1) : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
  });
  const busy = total - idle;
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, topN).map(([name, us]) => ({ name, ms: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { totalMs: total / 1000, idleMs: idle / 1000, gcMs: gc / 1000, busyMs: busy / 1000, top };
}

interface TargetProfile { target: string; perUser: DeliveryResult; fanout: DeliveryResult; processCpuMs: number; summary: ProfileSummary; file: string }

/** Profiles under `dir` (one per process; Herald on NATS writes one subdirectory per role), as [role, path]. */
function profilesIn(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...profilesIn(join(dir, e.name)).map(([r, p]): [string, string] => [r || e.name, p]));
    else if (e.name.endsWith('.cpuprofile')) out.push(['', join(dir, e.name)]);
  }
  return out;
}

async function profileTarget(t: TargetDef, tokens: string[], users: number): Promise<TargetProfile[]> {
  const dir = join(OUT, `tmp-${t.key}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`▶ ${t.name} under --cpu-prof`);
  // A short drain, so that SIGTERM ends Herald (and the profile is written) within seconds.
  const run = await t.start({ HERALD_DRAIN_WINDOW_MS: '100', HERALD_DRAIN_TIMEOUT_MS: '2000' }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const gens = await LoadGens.start(2);
  const pub = await Publisher.start();
  const cl = { gens, pub };
  let perUser: DeliveryResult;
  let fanout: DeliveryResult;
  let cpu0 = 0;
  let cpu1 = 0;
  try {
    const c = await connectPhase(run, gens, tokens, false);
    const per = c.connections / users;
    log(`  ${c.connections} connected; warm-up: ${USER_MESSAGES} per-user messages`);
    await deliveryPhase(run, cl, 'warm-up', USER_MESSAGES, USER_RATE, per * USER_MESSAGES, { kind: 'user', users });
    cpu0 = cpuOf(run.pids);
    perUser = await deliveryPhase(run, cl, 'per-user', USER_MESSAGES, USER_RATE, per * USER_MESSAGES, { kind: 'user', users });
    fanout = await deliveryPhase(run, cl, 'fan-out', FANOUT_MESSAGES, FANOUT_RATE, c.connections * FANOUT_MESSAGES, { kind: 'topic', topic: 'bench' });
    cpu1 = cpuOf(run.pids);
  } finally {
    await endRun(gens, pub, run);
  }
  const written = profilesIn(dir);
  if (written.length === 0) throw new Error(`${t.name} wrote no profile`);
  const out = written.map(([role, path]) => {
    const file = join(OUT, `${t.key}${role ? '-' + role : ''}.cpuprofile`);
    renameSync(path, file);
    const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    return { target: role ? `${t.name}: ${role}` : t.name, perUser, fanout, processCpuMs: cpu1 - cpu0, summary, file };
  });
  rmSync(dir, { recursive: true, force: true });
  return out;
}

function render(results: TargetProfile[]): string {
  const out: string[] = [];
  out.push(`# CPU profiles (npm run bench:profile, ${new Date().toISOString()})`, '');
  out.push(`${CONNS} connections (2 per user); per-user: ${USER_MESSAGES} messages at ${USER_RATE}/s after as many as warm-up; fan-out: ${FANOUT_MESSAGES} messages at ${FANOUT_RATE}/s to all. Server CPU from /proc (kernel included); JavaScript busy time from the V8 profile of the whole process life (start-up and connects included).`, '');
  out.push('| target | per-user µs CPU/delivery | fan-out µs CPU/delivery | profile: busy ms (GC ms) of the process life | profile file |', '|---|---|---|---|---|');
  for (const r of results) {
    out.push(`| ${r.target} | ${r.perUser.serverCpuUsPerDelivery.toFixed(1)} | ${r.fanout.serverCpuUsPerDelivery.toFixed(2)} | ${r.summary.busyMs.toFixed(0)} (${r.summary.gcMs.toFixed(0)}) | ${r.file.replace(ROOT + '/', '')} |`);
  }
  for (const r of results) {
    out.push('', `## ${r.target}: top functions by self time (share of busy time)`, '', '| ms | share | function |', '|---|---|---|');
    for (const f of r.summary.top) out.push(`| ${f.ms.toFixed(1)} | ${(f.share * 100).toFixed(1)}% | \`${f.name}\` |`);
  }
  out.push('', 'Open a .cpuprofile in Chrome DevTools (Performance → Load profile) or https://www.speedscope.app for the flame graph.');
  return out.join('\n') + '\n';
}

/** Instructions counted by callgrind in `pid` since the last zeroing: dumps, and reads the dump's totals. */
function callgrindDump(dir: string, role: string, pid: number): { ir: number; mainIr: number; file: string } {
  const before = new Set(readdirSync(dir));
  execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  // --separate-threads=yes: one file per thread, `<role>.out.<dump>-<thread>`; thread 01 is the JavaScript thread
  const fresh = readdirSync(dir).filter((f) => f.startsWith(role + '.') && !before.has(f)).sort();
  if (fresh.length === 0) throw new Error(`callgrind wrote no dump for ${role}`);
  const irOf = (f: string): number => Number(/^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, f), 'utf8'))?.[1] ?? 0);
  const main = fresh.find((f) => f.endsWith('-01')) ?? (fresh[0] as string);
  return { ir: fresh.reduce((a, f) => a + irOf(f), 0), mainIr: irOf(main), file: join(dir, main) };
}

interface CountRow { phase: string; messages: number; errors: number; deliveries: number; lost: number; apiIr: number; gwIr: number; apiMain: number; gwMain: number; files: string[] }

/** PROFILE_TOOL=callgrind: instructions per publish (publish API) and per delivery (gateway) on Herald on NATS. */
async function countInstructions(tokens: string[], users: number): Promise<void> {
  const dir = join(OUT, 'callgrind');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const vg = (role: string): string[] => ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${dir}/${role}.out`];
  const roles = ['publish-api', 'gateway-0'];
  log('▶ Herald on NATS, publish API and gateway under callgrind');
  const run = await heraldNats(1).start({ HERALD_DRAIN_WINDOW_MS: '100', HERALD_DRAIN_TIMEOUT_MS: '2000' }, [], Object.fromEntries(roles.map((r) => [r, vg(r)])));
  const pidOf = (role: string): number => run.roles.find((r) => r.role === (role === 'publish-api' ? 'publish-api' : 'gateway'))?.pid ?? 0;
  const gens = await LoadGens.start(2);
  const pub = await Publisher.start();
  const cl = { gens, pub };
  const rows: CountRow[] = [];
  try {
    const c = await connectPhase(run, gens, tokens, false);
    const per = c.connections / users;
    const single: BodySpec = { kind: 'user', users };
    const batch: BodySpec = { kind: 'user', users, batch: 100 };
    // Long enough for V8 to optimize the hot paths: measured code should run optimized, as in production.
    log(`  ${c.connections} connected; warm-up (not counted): ${WARMUP} single, ${WARMUP * 2} in batches`);
    await deliveryPhase(run, cl, 'warm-up', WARMUP, WARMUP_RATE, per * WARMUP, single);
    await deliveryPhase(run, cl, 'warm-up batch', WARMUP * 2, WARMUP_RATE * 2, per * WARMUP * 2, batch);
    for (const [phase, n, rate, body] of [['single', USER_MESSAGES, USER_RATE, single], ['batch of 100', BATCH_MESSAGES, BATCH_RATE, batch]] as const) {
      // Switching instrumentation on retranslates all code: a short run first, then zero the counts.
      for (const r of roles) execFileSync('callgrind_control', ['-i', 'on', String(pidOf(r))], { stdio: 'ignore' });
      const pre = Math.ceil(n / 4);
      await deliveryPhase(run, cl, `${phase} (instrumented warm-up)`, pre, rate, per * pre, body);
      for (const r of roles) execFileSync('callgrind_control', ['-z', String(pidOf(r))], { stdio: 'ignore' });
      const { d, sent } = await measure(run, cl, phase, n, rate, per * n, body);
      const [api, gw] = roles.map((r) => callgrindDump(dir, r, pidOf(r))) as [ReturnType<typeof callgrindDump>, ReturnType<typeof callgrindDump>];
      for (const r of roles) execFileSync('callgrind_control', ['-i', 'off', String(pidOf(r))], { stdio: 'ignore' });
      rows.push({ phase, messages: n, errors: sent.errors, deliveries: d.deliveries, lost: d.lost, apiIr: api.ir, gwIr: gw.ir, apiMain: api.mainIr, gwMain: gw.mainIr, files: [api.file, gw.file].map((f) => f.replace(ROOT + '/', '')) });
    }
  } finally {
    await endRun(gens, pub, run);
  }
  const out = [`# Instructions per publish and per delivery (PROFILE_TOOL=callgrind npm run bench:profile, ${new Date().toISOString()})`, '',
    `Herald on NATS (one gateway, one publish API, one nats-server), ${tokens.length} connections (2 per user); callgrind counts every user-space instruction of the process (all threads: JIT, GC, libuv, uWS; not the kernel's work in system calls) during the phase, after ${WARMUP} single and ${WARMUP * 2} batched messages uninstrumented and a quarter of the phase instrumented. Counts move by about 5% from run to run (JIT tiering and deoptimizations land at different moments): compare main-thread figures over two runs, or diff the dumps function by function with callgrind_annotate.`, '',
    'Each figure: all threads (main thread only: the JavaScript thread, without concurrent compilation and GC helpers).', '',
    '| phase | messages (failed requests) | deliveries (lost) | publish API instructions/message | gateway instructions/delivery | main-thread dumps |', '|---|---|---|---|---|---|'];
  const k = (ir: number, n: number): string => `${(ir / Math.max(1, n) / 1000).toFixed(1)} k`;
  for (const r of rows) out.push(`| ${r.phase} | ${r.messages} (${r.errors}) | ${r.deliveries} (${r.lost}) | ${k(r.apiIr, r.messages)} (${k(r.apiMain, r.messages)}) | ${k(r.gwIr, r.deliveries)} (${k(r.gwMain, r.deliveries)}) | ${r.files.join(', ')} |`);
  const md = out.join('\n') + '\n';
  writeFileSync(join(dir, 'callgrind.md'), md);
  process.stdout.write('\n' + md);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (process.env['PROFILE_TOOL'] === 'callgrind') {
    const users = Math.max(1, Math.floor(env('PROFILE_CONNS', 200) / 2));
    return countInstructions(await tokensFor(0, users * 2, users), users);
  }
  const users = Math.max(1, Math.floor(CONNS / 2));
  const tokens = await tokensFor(0, users * 2, users);
  const results: TargetProfile[] = [];
  for (const t of [ceiling, heraldDev, heraldNats(1)].filter((x) => TARGETS.includes(x.key))) results.push(...await profileTarget(t, tokens, users));
  const md = render(results);
  writeFileSync(join(OUT, 'profile.md'), md);
  process.stdout.write('\n' + md);
  log(`written: ${OUT.replace(ROOT + '/', '')}/{ceiling,herald-dev}.cpuprofile and profile.md`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:profile failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
