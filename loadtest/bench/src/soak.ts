/**
 * `npm run bench:soak`: a memory soak of Herald. For each target (`herald dev` on the memory
 * bus; with SOAK_TARGETS=dev,nats also `herald gateway` + `herald publish-api` on a
 * nats-server): open SOAK_CONNECTIONS subscribed connections, churn for a warm-up (JIT, pools
 * and history rings settle), return to the same connections and measure the baseline (heap
 * after a forced full GC, through the inspector; RSS), churn for SOAK_MINUTES (connect,
 * subscribe/unsubscribe ever-new topics, receive steady publishes to topics and users,
 * disconnect cleanly or abruptly, bad actors; the live count oscillating), return to the same
 * count again, settle (bounded) and measure. Exits 1 when memory grew past the limit, when a
 * gauge does not return to the live figures, or when anything unexpected happened.
 * Results: loadtest/bench/results/soak.{json,md}.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '@herald/testkit';
import { rssBytes } from './procstat.js';
import {
  envInt, fetchMetrics, mb, metric, onCleanup, pollUntil, postJson, progress, runMain, sleep, startHerald, table, waitReady, withTimeout, writeResults, SECRET,
  type HeraldProc,
} from './soak-common.js';
import { heapAfterGc, inspectorUrl } from './soak-inspect.js';
import type { SoakCmd, SoakReply, SoakStats } from './soak-worker.js';

const TAG = 'soak';
const N = envInt('SOAK_CONNECTIONS', 1000);
const MINUTES = envInt('SOAK_MINUTES', 3);
const WARMUP_S = envInt('SOAK_WARMUP_S', 45);
const SAMPLE_S = envInt('SOAK_SAMPLE_S', 5);
const SETTLE_S = envInt('SOAK_SETTLE_S', 30);
const CYCLE_PER_S = envInt('SOAK_CYCLE_PER_S', 60);
const SUBS_PER_S = envInt('SOAK_SUBS_PER_S', 200);
const BAD_PER_S = envInt('SOAK_BAD_PER_S', 5);
const PUBLISH_PER_S = envInt('SOAK_PUBLISH_PER_S', 200);
/** The live count swings N ± N·SWING over SOAK_PERIOD_S. */
const SWING = 0.5;
const PERIOD_S = envInt('SOAK_PERIOD_S', 30);
const USERS = 1000;
const POOL_TOPICS = 100;
const HISTORY = 10;
/**
 * Limits. The heap is read after two forced full GCs, so it is the live size: repeated
 * baselines of one process differ by well under 1 MB, and a leak of 300 bytes per connection
 * cycle shows as 4 MB after the default run's ~13,000 cycles. RSS also holds allocator and
 * V8 page retention (it rarely shrinks after a peak, and the uWS native side allocates
 * outside the heap), so it gets more slack: max(24 MB, 15 %).
 */
const HEAP_SLACK_MB = envInt('SOAK_HEAP_SLACK_MB', 4);
const HEAP_SLACK_PCT = envInt('SOAK_HEAP_SLACK_PCT', 10);
const RSS_SLACK_MB = envInt('SOAK_RSS_SLACK_MB', 24);
const RSS_SLACK_PCT = envInt('SOAK_RSS_SLACK_PCT', 15);
const TARGETS = (process.env['SOAK_TARGETS'] ?? 'dev').split(',').map((s) => s.trim()).filter((s) => s.length > 0);

const MiB = 1024 * 1024;

interface Target {
  readonly key: string;
  readonly name: string;
  readonly wsUrl: string;
  readonly apiPort: number;
  readonly gateway: HeraldProc;
  readonly inspector: string | undefined;
  stop(): Promise<void>;
}

const COMMON_ENV = {
  HERALD_HISTORY_SIZE: String(HISTORY),
  HERALD_UPGRADE_RATE: '100000',
  HERALD_MAX_CONNECTIONS_PER_USER: '1000',
};

async function startDev(): Promise<Target> {
  const p = await startHerald('herald dev', 'dev', COMMON_ENV, ['--inspect=127.0.0.1:0']);
  await waitReady(p);
  return { key: 'dev', name: 'herald dev (memory bus)', wsUrl: `ws://127.0.0.1:${p.port}/v1/ws`, apiPort: p.port, gateway: p, inspector: inspectorUrl(p.tail()), stop: () => p.kill() };
}

async function startNats(): Promise<Target> {
  const nats = await startNatsServer();
  onCleanup(() => nats.stop());
  const env = { ...COMMON_ENV, HERALD_NATS_URL: nats.url };
  const gw = await startHerald('gateway', 'gateway', { ...env, HERALD_NODE_ID: 'soak-gw' }, ['--inspect=127.0.0.1:0']);
  const api = await startHerald('publish-api', 'publish-api', { ...env, HERALD_NODE_ID: 'soak-api' });
  await waitReady(gw);
  await waitReady(api);
  return {
    key: 'nats', name: 'herald gateway + publish-api on nats-server', wsUrl: `ws://127.0.0.1:${gw.port}/v1/ws`, apiPort: api.port, gateway: gw, inspector: inspectorUrl(gw.tail()),
    stop: async () => {
      await gw.kill();
      await api.kill();
      await nats.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The client process

class Worker {
  readonly #child: ChildProcess;
  readonly #waiters = new Set<(m: SoakReply) => boolean>();
  constructor() {
    this.#child = fork(fileURLToPath(new URL('./soak-worker.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: SoakReply) => {
      if (m.type === 'error') progress(TAG, `worker: ${m.message}`);
      for (const w of [...this.#waiters]) if (w(m)) this.#waiters.delete(w);
    });
    onCleanup(() => this.stop());
  }
  send(cmd: SoakCmd): void {
    if (this.#child.connected) this.#child.send(cmd);
  }
  ask<T extends SoakReply['type']>(cmd: SoakCmd | undefined, type: T, timeoutMs: number): Promise<Extract<SoakReply, { type: T }>> {
    const p = new Promise<Extract<SoakReply, { type: T }>>((resolve) => {
      this.#waiters.add((m) => {
        if (m.type !== type) return false;
        resolve(m as Extract<SoakReply, { type: T }>);
        return true;
      });
    });
    if (cmd) this.send(cmd);
    return withTimeout(p, timeoutMs, `worker reply ${type}`);
  }
  async stats(): Promise<SoakStats> {
    return (await this.ask({ type: 'stats' }, 'stats', 10_000)).stats;
  }
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.send({ type: 'exit' });
    try {
      await withTimeout(gone, 5000, 'worker exit');
    } catch {
      this.#child.kill('SIGKILL');
      await gone;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Publishing

interface PubStats { published: number; failed: number }

/** Prefills every pool channel's history ring (so its size is steady before the baseline). */
async function prefill(port: number): Promise<void> {
  const targets = [...Array.from({ length: POOL_TOPICS }, (_, i) => ({ topic: `soak.p${i}` })), ...Array.from({ length: USERS }, (_, i) => ({ user: `u${i}` }))];
  for (let round = 0; round < HISTORY; round++) {
    for (let i = 0; i < targets.length; i += 200) {
      const messages = targets.slice(i, i + 200).map((t) => ({ ...t, data: { prefill: round, pad: 'p'.repeat(64) } }));
      const r = await postJson(port, '/v1/publish/batch', { messages });
      if (r.status !== 200) throw new Error(`prefill: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`);
    }
  }
}

function startPublisher(port: number, st: PubStats): () => Promise<void> {
  let running = true;
  const perTick = Math.max(1, Math.round(PUBLISH_PER_S / 10));
  const loop = (async () => {
    let n = 0;
    while (running) {
      const t0 = Date.now();
      const messages = Array.from({ length: perTick }, () => {
        n++;
        const data = { n, ts: Date.now(), pad: 'm'.repeat(64) };
        return n % 2 === 0 ? { topic: `soak.p${n % POOL_TOPICS}`, data } : { user: `u${Math.floor(Math.random() * USERS)}`, data };
      });
      try {
        const r = await postJson(port, '/v1/publish/batch', { messages });
        if (r.status === 200) st.published += messages.length;
        else st.failed += messages.length;
      } catch {
        st.failed += messages.length;
      }
      await sleep(Math.max(0, 100 - (Date.now() - t0)));
    }
  })();
  return async () => {
    running = false;
    await withTimeout(loop, 15_000, 'publisher stop');
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Sample { t: number; phase: string; rss: number; heapUsed: number; connections: number; live: number }

interface Gauges { connections: number; subscriptions: number; channels: number }

async function gauges(port: number): Promise<Gauges> {
  const m = await fetchMetrics(port);
  return { connections: metric(m, 'herald_connections') ?? NaN, subscriptions: metric(m, 'herald_subscriptions') ?? NaN, channels: metric(m, 'herald_bus_channels') ?? NaN };
}

interface Point {
  /** Heap used after two full GCs (inspector); NaN without an inspector. */
  heapAfterGc: number;
  /** Lowest `nodejs_heap_size_used_bytes` over the measuring window. */
  heapUsedMin: number;
  /** Median RSS over the measuring window. */
  rss: number;
  gauges: Gauges;
  expected: Gauges;
  gaugesOk: boolean;
  settleMs: number;
}

/** Stops churn, returns to N connections, waits for the gauges (bounded), then measures. */
async function measure(t: Target, w: Worker, label: string): Promise<Point> {
  w.send({ type: 'churn', on: false });
  const s = await w.ask({ type: 'settle', n: N }, 'settled', 90_000);
  if (s.live !== N) throw new Error(`${label}: the worker holds ${s.live} connections, not ${N}`);
  const t0 = Date.now();
  let g: Gauges = { connections: NaN, subscriptions: NaN, channels: NaN };
  const ok = await pollUntil(async () => {
    g = await gauges(t.gateway.port);
    return g.connections === s.expected.connections && g.subscriptions === s.expected.subscriptions && g.channels === s.expected.channels;
  }, SETTLE_S * 1000, 250);
  const settleMs = Date.now() - t0;
  progress(TAG, `${label}: gauges ${ok ? 'match' : 'DO NOT match'} after ${settleMs} ms: ${JSON.stringify(g)} expected ${JSON.stringify(s.expected)}`);
  await sleep(2000);
  const heap = t.inspector === undefined ? NaN : await heapAfterGc(t.inspector);
  const rss: number[] = [];
  let heapMin = Infinity;
  for (let i = 0; i < 5; i++) {
    await sleep(1000);
    rss.push(rssBytes(t.gateway.pid));
    const m = await fetchMetrics(t.gateway.port);
    heapMin = Math.min(heapMin, metric(m, 'nodejs_heap_size_used_bytes') ?? Infinity);
  }
  rss.sort((a, b) => a - b);
  const p: Point = { heapAfterGc: heap, heapUsedMin: heapMin, rss: rss[2] as number, gauges: g, expected: s.expected, gaugesOk: ok, settleMs };
  progress(TAG, `${label}: heap after GC ${mb(p.heapAfterGc)} MB, heap used (min) ${mb(p.heapUsedMin)} MB, RSS ${mb(p.rss)} MB`);
  return p;
}

/** Churns for `seconds` with the live count oscillating, sampling memory every SAMPLE_S. */
async function churn(t: Target, w: Worker, phase: string, seconds: number, samples: Sample[]): Promise<void> {
  w.send({ type: 'churn', on: true });
  const t0 = Date.now();
  let nextSample = 0;
  while (Date.now() - t0 < seconds * 1000) {
    if (!t.gateway.alive()) throw new Error(`${t.gateway.name} died\n${t.gateway.tail().join('\n')}`);
    const el = (Date.now() - t0) / 1000;
    w.send({ type: 'target', n: Math.round(N + N * SWING * Math.sin((2 * Math.PI * el) / PERIOD_S)) });
    if (el >= nextSample) {
      nextSample += SAMPLE_S;
      const m = await fetchMetrics(t.gateway.port);
      const st = await w.stats();
      const smp: Sample = { t: Date.now(), phase, rss: rssBytes(t.gateway.pid), heapUsed: metric(m, 'nodejs_heap_size_used_bytes') ?? NaN, connections: metric(m, 'herald_connections') ?? NaN, live: st.live };
      samples.push(smp);
      progress(TAG, `${t.key} ${phase} ${el.toFixed(0)}/${seconds}s live ${st.live} gauge ${smp.connections} RSS ${mb(smp.rss)} MB heap ${mb(smp.heapUsed)} MB opened ${st.opened} subs ${st.subscribes} delivered ${st.delivered}`);
    }
    await sleep(1000);
  }
}

interface TargetResult {
  target: string;
  name: string;
  connections: number;
  minutes: number;
  baseline: Point;
  final: Point;
  heapGrowthBytes: number;
  rssGrowthBytes: number;
  cycles: number;
  heapGrowthPer1000Cycles: number;
  rssGrowthPer1000Cycles: number;
  heapLimitBytes: number;
  rssLimitBytes: number;
  counts: SoakStats & { publishedMessages: number; publishFailures: number };
  samples: Sample[];
  failures: string[];
}

async function soakOne(start: () => Promise<Target>): Promise<TargetResult> {
  const t = await start();
  progress(TAG, `${t.name}: gateway pid ${t.gateway.pid}, ws ${t.wsUrl}, inspector ${t.inspector ?? 'none'}`);
  const failures: string[] = [];
  const samples: Sample[] = [];
  const pub: PubStats = { published: 0, failed: 0 };
  let stopPub = async (): Promise<void> => undefined;
  const w = new Worker();
  try {
    await prefill(t.apiPort);
    await w.ask({ type: 'init', url: t.wsUrl, secret: SECRET, users: USERS, poolTopics: POOL_TOPICS, cyclePerS: CYCLE_PER_S, subsPerS: SUBS_PER_S, badPerS: BAD_PER_S }, 'ready', 20_000);
    w.send({ type: 'target', n: N });
    const up = await pollUntil(async () => (await w.stats()).live === N, 60_000, 500);
    if (!up) throw new Error(`could not open ${N} connections within 60 s`);
    stopPub = startPublisher(t.apiPort, pub);
    progress(TAG, `${t.key}: ${N} connections up; warm-up churn ${WARMUP_S}s`);
    await churn(t, w, 'warm-up', WARMUP_S, samples);
    const baseline = await measure(t, w, 'baseline');
    const before = await w.stats();
    await churn(t, w, 'churn', MINUTES * 60, samples);
    const final = await measure(t, w, 'final');
    const after = await w.stats();
    await stopPub();
    const counts = { ...after, publishedMessages: pub.published, publishFailures: pub.failed };
    const cycles = after.opened - before.opened;
    const heapGrowth = final.heapAfterGc - baseline.heapAfterGc;
    const rssGrowth = final.rss - baseline.rss;
    const heapLimit = Math.max(HEAP_SLACK_MB * MiB, (baseline.heapAfterGc * HEAP_SLACK_PCT) / 100);
    const rssLimit = Math.max(RSS_SLACK_MB * MiB, (baseline.rss * RSS_SLACK_PCT) / 100);
    if (!(heapGrowth <= heapLimit)) failures.push(`heap after GC grew ${mb(heapGrowth)} MB (limit ${mb(heapLimit)} MB)`);
    if (!(rssGrowth <= rssLimit)) failures.push(`RSS grew ${mb(rssGrowth)} MB (limit ${mb(rssLimit)} MB)`);
    for (const [label, p] of [['baseline', baseline], ['final', final]] as const) {
      if (!p.gaugesOk) failures.push(`${label}: gauges ${JSON.stringify(p.gauges)} did not return to ${JSON.stringify(p.expected)} within ${SETTLE_S}s`);
    }
    for (const [k, v] of Object.entries(after.unexpected)) failures.push(`unexpected: ${k} × ${v}`);
    for (const [k, v] of Object.entries(after.bad)) if (v.wrong > 0) failures.push(`bad actor ${k}: ${v.wrong} answered against the contract`);
    if (pub.failed > 0) failures.push(`${pub.failed} publishes failed`);
    if (!t.gateway.alive()) failures.push('the gateway died');
    return {
      target: t.key, name: t.name, connections: N, minutes: MINUTES, baseline, final,
      heapGrowthBytes: heapGrowth, rssGrowthBytes: rssGrowth, cycles,
      heapGrowthPer1000Cycles: cycles > 0 ? (heapGrowth / cycles) * 1000 : NaN,
      rssGrowthPer1000Cycles: cycles > 0 ? (rssGrowth / cycles) * 1000 : NaN,
      heapLimitBytes: heapLimit, rssLimitBytes: rssLimit, counts, samples, failures,
    };
  } finally {
    await stopPub().catch(() => undefined);
    stopPub = async () => undefined;
    await w.stop();
    await t.stop();
  }
}

function markdown(results: readonly TargetResult[]): string {
  const out: string[] = ['# Soak', '', `${N} connections (each on its personal channel and one of ${POOL_TOPICS} topics), warm-up ${WARMUP_S}s, churn ${MINUTES} min: ${CYCLE_PER_S} connection cycles/s plus a live count swinging ${N * (1 - SWING)}–${N * (1 + SWING)} every ${PERIOD_S}s, ${SUBS_PER_S} sub+unsub frames/s on ever-new topic names, ${PUBLISH_PER_S} publishes/s to topics and users, ${BAD_PER_S} bad actors/s. Baseline and final are taken at the same ${N} connections after the gauges settled; heap = used after two forced full GCs (inspector).`, ''];
  for (const r of results) {
    const b = r.baseline;
    const f = r.final;
    const per = (x: number): string => `${(x / 1024).toFixed(1)} KiB`;
    out.push(`## ${r.name}`, '');
    out.push(table(['measure', 'baseline', 'final', 'growth', 'per 1,000 cycles', 'limit', 'verdict'], [
      ['heap after full GC (MB)', mb(b.heapAfterGc), mb(f.heapAfterGc), mb(r.heapGrowthBytes), per(r.heapGrowthPer1000Cycles), mb(r.heapLimitBytes), r.heapGrowthBytes <= r.heapLimitBytes ? 'ok' : 'FAIL'],
      ['RSS (MB, median of 5)', mb(b.rss), mb(f.rss), mb(r.rssGrowthBytes), per(r.rssGrowthPer1000Cycles), mb(r.rssLimitBytes), r.rssGrowthBytes <= r.rssLimitBytes ? 'ok' : 'FAIL'],
      ['heap used, lowest of 5 /metrics reads (MB)', mb(b.heapUsedMin), mb(f.heapUsedMin), mb(f.heapUsedMin - b.heapUsedMin), '', '', 'info'],
      ['herald_connections', `${b.gauges.connections} (want ${b.expected.connections})`, `${f.gauges.connections} (want ${f.expected.connections})`, '', '', 'equal', b.gaugesOk && f.gaugesOk ? 'ok' : 'FAIL'],
      ['herald_subscriptions', `${b.gauges.subscriptions} (want ${b.expected.subscriptions})`, `${f.gauges.subscriptions} (want ${f.expected.subscriptions})`, '', '', 'equal', b.gaugesOk && f.gaugesOk ? 'ok' : 'FAIL'],
      ['herald_bus_channels', `${b.gauges.channels} (want ${b.expected.channels})`, `${f.gauges.channels} (want ${f.expected.channels})`, '', '', 'equal', b.gaugesOk && f.gaugesOk ? 'ok' : 'FAIL'],
    ]));
    const c = r.counts;
    const peak = Math.max(...r.samples.map((s) => s.rss));
    out.push('', table(['count', 'value'], [
      ['connection cycles during the measured churn', r.cycles],
      ['connections opened (all phases) / failed', `${c.opened} / ${c.openFailed}`],
      ['closed clean / abrupt', `${c.closedClean} / ${c.closedAbrupt}`],
      ['topics subscribed / unsubscribed', `${c.subscribes} / ${c.unsubscribes}`],
      ['messages published / delivered', `${c.publishedMessages} / ${c.delivered}`],
      ['bad actors answered per contract', Object.entries(c.bad).map(([k, v]) => `${k} ${v.ok}/${v.ok + v.wrong}`).join(', ')],
      ['unexpected events', Object.keys(c.unexpected).length === 0 ? 'none' : JSON.stringify(c.unexpected)],
      ['peak RSS during churn (MB)', mb(peak)],
      ['gauges settled after (ms)', `${b.settleMs} / ${f.settleMs}`],
    ]));
    out.push('', r.failures.length === 0 ? '**PASS**' : `**FAIL**: ${r.failures.join('; ')}`, '');
  }
  out.push(`Limits: heap after GC may grow max(${HEAP_SLACK_MB} MB, ${HEAP_SLACK_PCT} %) (exact live size: a 300-byte leak per cycle shows), RSS max(${RSS_SLACK_MB} MB, ${RSS_SLACK_PCT} %) (allocator and V8 page retention, native uWS memory).`, '');
  return out.join('\n');
}

runMain(TAG, async () => {
  const results: TargetResult[] = [];
  for (const key of TARGETS) {
    if (key !== 'dev' && key !== 'nats') throw new Error(`SOAK_TARGETS: unknown target ${key} (dev, nats)`);
    results.push(await soakOne(key === 'dev' ? startDev : startNats));
  }
  const md = markdown(results);
  writeResults('soak', { config: { N, MINUTES, WARMUP_S, CYCLE_PER_S, SUBS_PER_S, BAD_PER_S, PUBLISH_PER_S, PERIOD_S, SWING, USERS, POOL_TOPICS, HISTORY }, results }, md);
  process.stdout.write(md + '\n');
  const failed = results.flatMap((r) => r.failures.map((f) => `${r.target}: ${f}`));
  for (const f of failed) progress(TAG, `FAIL ${f}`);
  return failed.length === 0 ? 0 : 1;
});
