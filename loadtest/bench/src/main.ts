/**
 * `npm run bench`: Herald against its baselines, one target after another, each started
 * and stopped by the bench, driven by the same load generators (BENCH_LOADGENS separate
 * processes, default 2). Targets: the raw-uWS ceiling, Herald dev (memory bus), Herald on
 * NATS (gateway + publish-api + nats-server), "by hand" (ws + NATS + jose), socket.io.
 *
 * Scenarios per target: connect (BENCH_CONNS authenticated connections, BENCH_CONNS_PER_USER
 * per user, each subscribed to one topic), fan-out (BENCH_MESSAGES at BENCH_RATE/s to the
 * topic), per-user (BENCH_USER_MESSAGES at BENCH_USER_RATE/s to random users), a big
 * fan-out (BENCH_BIG_CONNS subscribers, BENCH_BIG_MESSAGES at BENCH_BIG_RATE/s; 0 skips).
 * Then Herald on 2 NATS gateways (bus interest vs deliveries of personal channels) and
 * permessage-deflate (off / shared / dedicated). BENCH_BUDGET_S (600) bounds the run:
 * optional parts are skipped once it is spent.
 * Writes loadtest/bench/results/latest.{json,md,html} and loadtest/bench/RESULTS.md.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signToken } from '@herald/auth';
import { cpuMs, rssBytes } from './procstat.js';
import { fromHistogram, summarize, type Summary } from './stats.js';
import { API_KEY, ROOT, SECRET, byHand, ceiling, heraldDev, heraldNats, socketIo, type Running, type TargetDef } from './targets.js';
import type { Protocol } from './loadgen.js';
import { renderHtml, renderMarkdown, type Report } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
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
  budgetS: env('BENCH_BUDGET_S', 600),
  compressConns: env('BENCH_COMPRESS_CONNS', 500),
  compressMessages: env('BENCH_COMPRESS_MESSAGES', 200),
};
const TOPIC = 'bench';
const T0 = performance.now();
const elapsedS = (): number => (performance.now() - T0) / 1000;
const overBudget = (reserveS = 0): boolean => elapsedS() + reserveS > CFG.budgetS;
const clock = (): string => {
  const s = Math.floor(elapsedS());
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const log = (s: string): void => void process.stderr.write(`[${clock()}] ${s}\n`);
const progress = (s: string): void => void process.stderr.write(`\r[${clock()}] ${s}\x1b[K`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A typical JSON notification (about 250 bytes as a frame). */
function notification(i: number): unknown {
  return { type: 'order.updated', i, orderId: `ord_${100000 + (i % 997)}`, status: i % 2 ? 'shipped' : 'packed', carrier: 'DHL', items: 3, total: 129.9, currency: 'EUR', eta: '2026-11-24T10:00:00Z', url: `/orders/ord_${100000 + (i % 997)}` };
}

// ---------------------------------------------------------------- load generators

interface Collected { received: number; hist: [number, number][]; cpuMs: number; wallMs: number; bytesRead: number }
interface Connected { count: number; failed: number; ms: number; handshakes: number[]; extensions: string }

function ask<T>(gen: ChildProcess, cmd: object, reply: string): Promise<T> {
  return new Promise((resolveReply, reject) => {
    const onMsg = (m: { type: string; message?: string }): void => {
      if (m.type === reply) { gen.off('message', onMsg); resolveReply(m as T); }
      else if (m.type === 'error') { gen.off('message', onMsg); reject(new Error(m.message)); }
    };
    gen.on('message', onMsg);
    gen.send(cmd);
  });
}

class LoadGens {
  private constructor(readonly gens: ChildProcess[]) {}
  static async start(n: number): Promise<LoadGens> {
    const gens = Array.from({ length: n }, () => fork(join(here, 'loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(gens.map((g) => new Promise<void>((r) => g.once('message', () => r()))));
    return new LoadGens(gens);
  }
  async connect(protocol: Protocol, urls: string[], tokens: string[], deflate: boolean): Promise<Connected> {
    const n = this.gens.length;
    // token j goes to generator j % n, keeping the URL of index j (node choice) intact
    const parts = this.gens.map((_, g) => tokens.map((t, j) => ({ t, url: urls[j % urls.length] as string })).filter((_, j) => j % n === g));
    const rs = await Promise.all(this.gens.map((g, i) => ask<Connected>(g, {
      type: 'connect', protocol, urls: parts[i]!.map((p) => p.url), tokens: parts[i]!.map((p) => p.t), topic: TOPIC,
      concurrency: Math.ceil(50 / n), deflate,
    }, 'connected')));
    return {
      count: rs.reduce((a, r) => a + r.count, 0), failed: rs.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...rs.map((r) => r.ms)), handshakes: rs.flatMap((r) => r.handshakes), extensions: rs[0]?.extensions ?? '',
    };
  }
  async count(): Promise<number> {
    const rs = await Promise.all(this.gens.map((g) => ask<{ received: number }>(g, { type: 'count' }, 'count')));
    return rs.reduce((a, r) => a + r.received, 0);
  }
  async collect(): Promise<{ received: number; hist: Map<number, number>; cpuMs: number[]; wallMs: number; bytesRead: number }> {
    const rs = await Promise.all(this.gens.map((g) => ask<Collected>(g, { type: 'collect' }, 'collected')));
    const hist = new Map<number, number>();
    for (const r of rs) for (const [k, v] of r.hist) hist.set(k, (hist.get(k) ?? 0) + v);
    return { received: rs.reduce((a, r) => a + r.received, 0), hist, cpuMs: rs.map((r) => r.cpuMs), wallMs: Math.max(...rs.map((r) => r.wallMs)), bytesRead: rs.reduce((a, r) => a + r.bytesRead, 0) };
  }
  async close(): Promise<void> {
    await Promise.all(this.gens.map((g) => ask(g, { type: 'close' }, 'closed')));
  }
  exit(): void {
    for (const g of this.gens) g.send({ type: 'exit' });
  }
}

// ---------------------------------------------------------------- measurements

export interface ConnectResult { connections: number; failed: number; connectPerS: number; handshakeMs: Summary; rssPerConnBytes: number; extensions: string }
export interface DeliveryResult {
  messages: number; publishedPerS: number; expected: number; deliveries: number; lost: number; deliveriesPerS: number;
  latencyMs: Summary; serverCpuMs: number; serverCpuUsPerDelivery: number; deliveriesPerCpuS: number;
  loadgenCpuPctMax: number; loadgenCpuUsPerDelivery: number; wireBytesPerDelivery: number;
}
export interface TargetResult { key: string; target: string; connect?: ConnectResult; fanout?: DeliveryResult; perUser?: DeliveryResult; bigFanout?: DeliveryResult & { subscribers: number }; error?: string }

const cpuOf = (pids: number[]): number => pids.reduce((a, p) => a + cpuMs(p), 0);
const rssOf = (pids: number[]): number => pids.reduce((a, p) => a + rssBytes(p), 0);

function tokensFor(from: number, to: number, users: number): Promise<string[]> {
  return Promise.all(Array.from({ length: to - from }, (_, k) => signToken({ secret: SECRET, sub: `u${(from + k) % users}`, topics: [TOPIC], ttlSec: 3600 })));
}

async function connectPhase(run: Running, gens: LoadGens, tokens: string[], deflate: boolean): Promise<ConnectResult> {
  const rss0 = rssOf(run.socketPids);
  const c = await gens.connect(run.protocol, run.wsUrls, tokens, deflate);
  await sleep(500); // let allocation settle before reading RSS
  const rss1 = rssOf(run.socketPids);
  return {
    connections: c.count, failed: c.failed, connectPerS: (c.count / c.ms) * 1000, handshakeMs: summarize(c.handshakes),
    rssPerConnBytes: (rss1 - rss0) / Math.max(1, c.count), extensions: c.extensions,
  };
}

/** Publishes `messages` at `rate`/s (body from `body(i)`), waits for `expected` deliveries, measures. */
async function deliveryPhase(run: Running, gens: LoadGens, label: string, messages: number, rate: number, expected: number, body: (i: number) => object): Promise<DeliveryResult> {
  const bytes0 = (await gens.collect()).bytesRead;
  const cpu0 = cpuOf(run.pids);
  const interval = 1000 / rate;
  const startAt = performance.now();
  for (let i = 0; i < messages; i++) {
    const wait = startAt + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    const res = await fetch(run.publishUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify(body(i)),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`publish answered ${res.status}`);
    if (i % Math.max(1, Math.floor(rate / 2)) === 0) progress(`  ${label}: published ${i}/${messages}`);
  }
  const publishedPerS = (messages / (performance.now() - startAt)) * 1000;
  progress(`  ${label}: published ${messages}/${messages}, waiting for deliveries`);
  let received = 0;
  let last = -1;
  let lastChange = Date.now();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && Date.now() - lastChange < 3000) {
    received = await gens.count();
    if (received >= expected) break;
    if (received !== last) { last = received; lastChange = Date.now(); }
    await sleep(100);
  }
  const cpu1 = cpuOf(run.pids);
  const c = await gens.collect();
  process.stderr.write('\n');
  const serverCpuMs = cpu1 - cpu0;
  const genCpu = c.cpuMs.reduce((a, b) => a + b, 0);
  return {
    messages, publishedPerS, expected, deliveries: c.received, lost: Math.max(0, expected - c.received),
    deliveriesPerS: (c.received / c.wallMs) * 1000,
    latencyMs: fromHistogram(c.hist), serverCpuMs,
    serverCpuUsPerDelivery: (serverCpuMs * 1000) / Math.max(1, c.received),
    deliveriesPerCpuS: serverCpuMs > 0 ? (c.received / serverCpuMs) * 1000 : NaN,
    loadgenCpuPctMax: Math.max(...c.cpuMs) / c.wallMs * 100,
    loadgenCpuUsPerDelivery: (genCpu * 1000) / Math.max(1, c.received),
    wireBytesPerDelivery: (c.bytesRead - bytes0) / Math.max(1, c.received),
  };
}

const fmtD = (d: DeliveryResult): string => `${d.deliveries}/${d.expected} delivered, lost ${d.lost}, p50/p99 ${d.latencyMs.p50}/${d.latencyMs.p99} ms, ${d.serverCpuUsPerDelivery.toFixed(2)} µs server CPU/delivery, loadgen max ${d.loadgenCpuPctMax.toFixed(0)}% of a core`;

async function runTarget(t: TargetDef, idx: string, tokens: string[], users: number): Promise<TargetResult> {
  log(`▶ ${idx} ${t.name}: starting`);
  const out: TargetResult = { key: t.key, target: t.name };
  const run = await t.start();
  const gens = await LoadGens.start(CFG.loadgens);
  try {
    log(`  connect: ${tokens.length} authenticated sockets (${users} users × ${CFG.connsPerUser})…`);
    out.connect = await connectPhase(run, gens, tokens, false);
    log(`  ${out.connect.connections} connected (${out.connect.failed} failed), ${out.connect.connectPerS.toFixed(0)}/s, ${(out.connect.rssPerConnBytes / 1024).toFixed(1)} KiB/conn`);
    const n = out.connect.connections;
    out.fanout = await deliveryPhase(run, gens, 'fan-out', CFG.messages, CFG.rate, n * CFG.messages, (i) => ({ topic: TOPIC, data: notification(i) }));
    log(`  fan-out: ${fmtD(out.fanout)}`);
    const per = n / users;
    out.perUser = await deliveryPhase(run, gens, 'per-user', CFG.userMessages, CFG.userRate, per * CFG.userMessages, (i) => ({ user: `u${Math.floor(Math.random() * users)}`, data: notification(i) }));
    log(`  per-user: ${fmtD(out.perUser)}`);
    if (CFG.bigConns > n && !overBudget(120)) {
      log(`  big fan-out: adding ${CFG.bigConns - n} subscribers…`);
      const more = await tokensFor(n, CFG.bigConns, CFG.bigConns);
      const c = await gens.connect(run.protocol, run.wsUrls, more, false);
      const subs = c.count; // the generators report every socket they hold
      const big = await deliveryPhase(run, gens, `fan-out ×${subs}`, CFG.bigMessages, CFG.bigRate, subs * CFG.bigMessages, (i) => ({ topic: TOPIC, data: notification(i) }));
      out.bigFanout = { ...big, subscribers: subs };
      log(`  big fan-out (${subs}): ${fmtD(big)}`);
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    log(`  FAILED: ${out.error}`);
  } finally {
    await gens.close().catch(() => undefined);
    gens.exit();
    await run.stop();
  }
  return out;
}

// ---------------------------------------------------------------- Herald on 2 NATS gateways

export interface InterestResult { nodes: { node: number; messagesIn: number; deliveries: number; messagesForNode: number; ratio: number }[]; connections: number; lost: number }

async function metricSum(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function runInterest(): Promise<InterestResult> {
  const users = 200;
  const k = CFG.connsPerUser;
  const messages = 1000;
  log(`▶ Herald on 2 NATS gateways: ${users} users × ${k} connections, user u<i> on node i % 2, ${messages} messages to random users`);
  const run = await heraldNats(2).start();
  const gens = await LoadGens.start(1);
  try {
    // token j is user j % users and goes to node j % 2: with an even user count every user lives on one node
    const tokens = await tokensFor(0, users * k, users);
    const c = await gens.connect('herald', run.wsUrls, tokens, false);
    const before = await Promise.all(run.metricsUrls.map(async (u) => [await metricSum(u, 'herald_messages_in_total'), await metricSum(u, 'herald_deliveries_total')]));
    const forNode = [0, 0];
    const d = await deliveryPhase(run, gens, 'personal', messages, CFG.userRate, messages * k, () => {
      const u = Math.floor(Math.random() * users);
      forNode[u % 2]!++;
      return { user: `u${u}`, data: notification(u) };
    });
    const after = await Promise.all(run.metricsUrls.map(async (u) => [await metricSum(u, 'herald_messages_in_total'), await metricSum(u, 'herald_deliveries_total')]));
    const nodes = run.metricsUrls.map((_, i) => {
      const messagesIn = after[i]![0]! - before[i]![0]!;
      const deliveries = after[i]![1]! - before[i]![1]!;
      return { node: i, messagesIn, deliveries, messagesForNode: forNode[i]!, ratio: messagesIn / Math.max(1, deliveries / k) };
    });
    for (const nd of nodes) log(`  node ${nd.node}: messages in ${nd.messagesIn}, deliveries ${nd.deliveries} (${nd.messagesForNode} messages for its users): ${nd.ratio.toFixed(3)}×`);
    return { nodes, connections: c.count, lost: d.lost };
  } finally {
    await gens.close().catch(() => undefined);
    gens.exit();
    await run.stop();
  }
}

// ---------------------------------------------------------------- compression

export interface CompressionResult { target: string; mode: string; extensions: string; rssPerConnBytes: number; fanout: DeliveryResult }

async function runCompression(): Promise<CompressionResult[]> {
  const out: CompressionResult[] = [];
  const n = CFG.compressConns;
  const users = n;
  const tokens = await tokensFor(0, n, users);
  const cases: { t: TargetDef; mode: string; env: Record<string, string> }[] = [
    { t: ceiling, mode: 'off', env: { CEILING_COMPRESSION: 'off' } },
    { t: ceiling, mode: 'shared', env: { CEILING_COMPRESSION: 'shared' } },
    { t: ceiling, mode: 'dedicated', env: { CEILING_COMPRESSION: 'dedicated' } },
    { t: heraldDev, mode: 'off', env: { HERALD_WS_COMPRESSION: 'off' } },
    { t: heraldDev, mode: 'shared', env: { HERALD_WS_COMPRESSION: 'shared' } },
  ];
  for (const [i, cs] of cases.entries()) {
    if (overBudget(20)) { log(`  compression: budget spent, skipping the rest`); break; }
    log(`▶ compression ${i + 1}/${cases.length}: ${cs.t.name}, ${cs.mode}; client offers permessage-deflate`);
    const run = await cs.t.start(cs.env);
    const gens = await LoadGens.start(CFG.loadgens);
    try {
      const c = await connectPhase(run, gens, tokens, true);
      const d = await deliveryPhase(run, gens, `deflate ${cs.mode}`, CFG.compressMessages, CFG.rate, c.connections * CFG.compressMessages, (k) => ({ topic: TOPIC, data: notification(k) }));
      out.push({ target: cs.t.name, mode: cs.mode, extensions: c.extensions || '(none)', rssPerConnBytes: c.rssPerConnBytes, fanout: d });
      log(`  negotiated "${c.extensions}", ${d.wireBytesPerDelivery.toFixed(1)} wire bytes/delivery, ${d.serverCpuUsPerDelivery.toFixed(2)} µs CPU/delivery, ${(c.rssPerConnBytes / 1024).toFixed(1)} KiB/conn, lost ${d.lost}`);
    } finally {
      await gens.close().catch(() => undefined);
      gens.exit();
      await run.stop();
    }
  }
  return out;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const users = Math.max(1, Math.floor(CFG.conns / CFG.connsPerUser));
  log(`bench: ${JSON.stringify(CFG)}; budget ${CFG.budgetS} s`);
  const tokens = await tokensFor(0, users * CFG.connsPerUser, users);
  const targets = [ceiling, heraldDev, heraldNats(1), byHand, socketIo];
  const results: TargetResult[] = [];
  for (const [i, t] of targets.entries()) {
    if (i > 1 && overBudget(60)) { log(`▶ ${t.name}: skipped, budget spent`); results.push({ key: t.key, target: t.name, error: 'skipped (budget)' }); continue; }
    results.push(await runTarget(t, `${i + 1}/${targets.length}`, tokens, users));
  }
  let interest: InterestResult | undefined;
  if (!overBudget(45)) {
    try { interest = await runInterest(); } catch (err) { log(`  interest scenario failed: ${String(err)}`); }
  }
  let compression: CompressionResult[] = [];
  if (!overBudget(60)) compression = await runCompression();
  const report: Report = { at: new Date().toISOString(), command: 'npm run bench', cfg: CFG, durationS: elapsedS(), results, interest, compression };
  const dir = join(ROOT, 'loadtest/bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
  const md = renderMarkdown(report);
  writeFileSync(join(dir, 'latest.md'), md);
  writeFileSync(join(dir, 'latest.html'), renderHtml(report, md));
  writeFileSync(join(ROOT, 'loadtest/bench/RESULTS.md'), '# Benchmark results (last committed run)\n\nProduced by `npm run bench` (loadtest/bench); the machine and sizes are in the text below.\n\n' + md);
  process.stdout.write('\n' + md + '\n');
  log(`written: loadtest/bench/results/latest.{json,md,html} and loadtest/bench/RESULTS.md (${elapsedS().toFixed(0)} s)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
