/**
 * `npm run bench:storm`: a reconnect storm. A nats-server, 3 `herald gateway` processes (each
 * with a V8 heap limit, the survivors with an upgrade rate) and a publish API; STORM_CLIENTS
 * real SDK clients spread over STORM_PROCS forked processes, all on gateway 0 and subscribed
 * to one topic, with steady publishing. Gateway 0 is SIGKILLed: every client reconnects to the
 * two survivors at once, shaped by admission control (503 + Retry-After) and the SDK's
 * full-jitter backoff, and recovers what it missed with `since`. Measures the time until every
 * client is back, refusals, each survivor's peak RSS, loss and duplicates per client. Exits 1
 * when a client is not back within STORM_BOUND_S, a survivor crashed or passed its RSS limit,
 * or a message was lost or duplicated. Results: loadtest/bench/results/storm.{json,md}.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '@herald/testkit';
import { rssBytes } from './procstat.js';
import {
  envInt, fetchMetrics, mb, metric, onCleanup, percentile, pollUntil, postJson, progress, runMain, sleep, startHerald, table, waitReady, withTimeout, writeResults, SECRET,
  type HeraldProc,
} from './soak-common.js';
import type { StormCmd, StormReply, StormStatus, StormTally } from './storm-client.js';

const TAG = 'storm';
const CLIENTS = envInt('STORM_CLIENTS', 6000);
const PROCS = Math.max(1, envInt('STORM_PROCS', 4));
const UPGRADE_RATE = envInt('STORM_UPGRADE_RATE', 500);
const HEAP_MB = envInt('STORM_HEAP_MB', 384);
const RSS_LIMIT_MB = envInt('STORM_RSS_LIMIT_MB', 512);
const BOUND_S = envInt('STORM_BOUND_S', 60);
const PUBLISH_PER_S = envInt('STORM_PUBLISH_PER_S', 5);
const HONOR_RETRY_AFTER = envInt('STORM_HONOR_RETRY_AFTER', 1) === 1;
const MIN_DELAY_MS = envInt('STORM_MIN_RECONNECT_MS', 500);
const MAX_DELAY_MS = envInt('STORM_MAX_RECONNECT_MS', 30_000);
const TOPIC = 'storm';

// ---------------------------------------------------------------------------------------------
// Client processes

class ClientProc {
  readonly #child: ChildProcess;
  readonly #waiters = new Set<(m: StormReply) => boolean>();
  constructor(readonly index: number) {
    this.#child = fork(fileURLToPath(new URL('./storm-client.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: StormReply) => {
      for (const w of [...this.#waiters]) if (w(m)) this.#waiters.delete(w);
    });
    onCleanup(() => this.stop());
  }
  send(cmd: StormCmd): void {
    if (this.#child.connected) this.#child.send(cmd);
  }
  ask<T extends StormReply['type']>(cmd: StormCmd, type: T, timeoutMs: number): Promise<Extract<StormReply, { type: T }>> {
    const p = new Promise<Extract<StormReply, { type: T }>>((resolve) => {
      this.#waiters.add((m) => {
        if (m.type !== type) return false;
        resolve(m as Extract<StormReply, { type: T }>);
        return true;
      });
    });
    this.send(cmd);
    return withTimeout(p, timeoutMs, `client process ${this.index}: ${type}`);
  }
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const gone = new Promise<void>((r) => this.#child.once('exit', () => r()));
    this.send({ type: 'exit' });
    try {
      await withTimeout(gone, 5000, 'client process exit');
    } catch {
      this.#child.kill('SIGKILL');
      await gone;
    }
  }
}

/** Every process's status; a process too busy to answer within 20 s keeps its previous one. */
async function statuses(procs: readonly ClientProc[], prev: readonly StormStatus[] = []): Promise<StormStatus[]> {
  return Promise.all(procs.map(async (p, i) => {
    try {
      return (await p.ask({ type: 'status' }, 'status', 20_000)).status;
    } catch (err) {
      const old = prev[i];
      if (old === undefined) throw err;
      progress(TAG, `client process ${i} did not answer within 20 s (busy); using its last status`);
      return old;
    }
  }));
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
function merge(recs: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of recs) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Publishing (a 503 or a transport error is retried with the same id; only a 200 counts)

interface Publisher { seqs: number[]; retries: number; okAt: number[]; stop(): Promise<void> }

async function publishOne(port: number, id: string, pub: Publisher): Promise<void> {
  const body = { topic: TOPIC, id, data: { id, ts: Date.now() } };
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const r = await postJson(port, '/v1/publish', body);
      if (r.status === 200) {
        const seq = (r.json as { results: { seq: number }[] }).results[0]?.seq;
        if (typeof seq === 'number' && !pub.seqs.includes(seq)) {
          pub.seqs.push(seq);
          pub.okAt.push(Date.now());
        }
        return;
      }
    } catch {
      /* retried below */
    }
    pub.retries++;
    await sleep(100);
  }
  throw new Error(`publish ${id} failed 100 times`);
}

function startPublisher(port: number): Publisher {
  let running = true;
  let n = 0;
  const pub: Publisher = { seqs: [], retries: 0, okAt: [], stop: async () => undefined };
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      await publishOne(port, `storm-${++n}`, pub);
      await sleep(Math.max(0, 1000 / PUBLISH_PER_S - (Date.now() - t0)));
    }
    await publishOne(port, `storm-final`, pub); // the last message reveals any gap
  })();
  pub.stop = async () => {
    running = false;
    await withTimeout(loop, 30_000, 'publisher stop');
  };
  return pub;
}

// ---------------------------------------------------------------------------------------------
// Memory sampling

interface Peak { name: string; pid: number; peakRss: number; samples: number }

function sampleRss(gws: readonly HeraldProc[]): { peaks: Peak[]; stop(): void } {
  const peaks = gws.map((g) => ({ name: g.name, pid: g.pid, peakRss: 0, samples: 0 }));
  const timer = setInterval(() => {
    gws.forEach((g, i) => {
      if (!g.alive()) return;
      try {
        const p = peaks[i] as Peak;
        p.peakRss = Math.max(p.peakRss, rssBytes(g.pid));
        p.samples++;
      } catch {
        /* exited between the check and the read */
      }
    });
  }, 100);
  return { peaks, stop: () => clearInterval(timer) };
}

// ---------------------------------------------------------------------------------------------

interface Result {
  config: Record<string, number | boolean>;
  clients: number;
  backCount: number;
  timeToAllMs: number;
  backMs: { p50: number; p90: number; p99: number; max: number };
  refusals: Record<string, number>;
  gatewayRefusals: Record<string, Record<string, number>>;
  connRefused: number;
  attempts: number;
  sdkErrors: Record<string, number>;
  reconnectsPerClient: { mean: number; max: number };
  survivors: { name: string; peakRssBytes: number; alive: boolean; connections: number }[];
  publishedDuringStorm: number;
  published: number;
  publishRetries: number;
  delivered: number;
  lost: number;
  clientsWithLoss: number;
  duplicated: number;
  outOfOrder: number;
  unrecovered: number;
  lossSample: string[];
  crashes: { name: string; exit: number | string; tail: string[] }[];
  failures: string[];
}

async function storm(): Promise<Result> {
  const nats = await startNatsServer();
  onCleanup(() => nats.stop());
  const env = (id: string, rate: number): Record<string, string> => ({
    HERALD_NATS_URL: nats.url, HERALD_NODE_ID: id, HERALD_HISTORY_SIZE: '10000', HERALD_UPGRADE_RATE: String(rate),
  });
  const nodeArgs = [`--max-old-space-size=${HEAP_MB}`];
  // gateway 0 only takes the initial connections: its rate is not what is measured
  const gws = await Promise.all([0, 1, 2].map((i) => startHerald(`gw-${i}`, 'gateway', env(`gw-${i}`, i === 0 ? 100_000 : UPGRADE_RATE), nodeArgs)));
  const api = await startHerald('publish-api', 'publish-api', env('api', UPGRADE_RATE));
  for (const p of [...gws, api]) await waitReady(p);
  const [gw0, gw1, gw2] = gws as [HeraldProc, HeraldProc, HeraldProc];
  progress(TAG, `nats ${nats.url}; gateways ${gws.map((g) => `${g.name}:${g.port}`).join(', ')}; publish-api ${api.port}`);

  const procs = Array.from({ length: PROCS }, (_, i) => new ClientProc(i));
  const per = Math.ceil(CLIENTS / PROCS);
  const counts = procs.map((_, i) => Math.max(0, Math.min(per, CLIENTS - i * per)));
  const openPerS = Math.max(50, Math.round(1500 / PROCS));
  const setupS = Math.ceil(per / openPerS) + 60;
  const readies = await Promise.all(procs.map((p, i) => p.ask({
    type: 'init', proc: i, count: counts[i] as number, secret: SECRET, topic: TOPIC, ports: [gw0.port], openPerS, honorRetryAfter: HONOR_RETRY_AFTER,
    minReconnectDelayMs: MIN_DELAY_MS, maxReconnectDelayMs: MAX_DELAY_MS,
  }, 'ready', setupS * 1000)));
  const failedSetup = sum(readies.map((r) => r.failed));
  if (failedSetup > 0) throw new Error(`${failedSetup} clients could not subscribe during setup`);
  const g0 = await fetchMetrics(gw0.port);
  progress(TAG, `${CLIENTS} clients subscribed on ${gw0.name} (herald_connections ${metric(g0, 'herald_connections')}); RSS ${gws.map((g) => `${g.name} ${mb(rssBytes(g.pid))} MB`).join(', ')}`);

  const rss = sampleRss([gw1, gw2]);
  const pub = startPublisher(api.port);
  await sleep(3000);
  let last = await statuses(procs);
  const before503 = await Promise.all([gw1, gw2].map(async (g) => fetchMetrics(g.port)));
  const killAt = Date.now();
  gw0.child.kill('SIGKILL');
  for (const p of procs) p.send({ type: 'route', ports: [gw1.port, gw2.port], killAt });
  progress(TAG, `SIGKILL ${gw0.name} (pid ${gw0.pid}); ${CLIENTS} clients reconnect to ${gw1.name} and ${gw2.name} (upgrade rate ${UPGRADE_RATE}/s each, heap limit ${HEAP_MB} MB)`);
  const allBack = await pollUntil(async () => {
    last = await statuses(procs, last);
    const back = sum(last.map((s) => s.back));
    progress(TAG, `+${((Date.now() - killAt) / 1000).toFixed(1)}s back ${back}/${CLIENTS} connected ${sum(last.map((s) => s.connected))} refusals ${JSON.stringify(merge(last.map((s) => s.refusals)))} peak RSS ${rss.peaks.map((p) => `${p.name} ${mb(p.peakRss)} MB`).join(', ')}`);
    if ([gw1, gw2].some((g) => !g.alive())) return true; // a survivor crashed: report it
    return back >= CLIENTS;
  }, BOUND_S * 1000, 500);
  const crashes: Result['crashes'] = [];
  const noteCrashes = async (): Promise<void> => {
  for (const g of [gw1, gw2]) {
    if (g.alive() || crashes.some((c) => c.name === g.name)) continue;
    const { code, signal } = await g.exited;
    const tail = g.tail().slice(-8);
    crashes.push({ name: g.name, exit: code ?? signal ?? 'unknown', tail });
    progress(TAG, `${g.name} CRASHED (${code ?? signal}), noticed ${((Date.now() - killAt) / 1000).toFixed(1)} s after the kill:\n${tail.join('\n')}`);
  }
  };
  await noteCrashes();
  const stormEnd = Date.now();
  await sleep(3000);
  await pub.stop();
  rss.stop();
  const publishedDuringStorm = pub.okAt.filter((t) => t >= killAt && t <= stormEnd).length;
  progress(TAG, `${crashes.length > 0 ? 'a survivor crashed' : allBack ? 'all back' : 'NOT all back'}; published ${pub.seqs.length} (${publishedDuringStorm} during the storm); waiting for delivery`);

  let tallies: StormTally[] = [];
  await pollUntil(async () => {
    tallies = (await Promise.all(procs.map((p) => p.ask({ type: 'tally', seqs: pub.seqs }, 'tally', 60_000)))).map((r) => r.tally);
    return sum(tallies.map((t) => t.lost)) === 0;
  }, crashes.length > 0 ? 5000 : 20_000, 1000);
  last = await statuses(procs, last);
  await noteCrashes();

  const survivorMetrics = await Promise.all([gw1, gw2].map(async (g) => (g.alive() ? fetchMetrics(g.port) : new Map<string, number>())));
  const gatewayRefusals: Record<string, Record<string, number>> = {};
  [gw1, gw2].forEach((g, i) => {
    const now = survivorMetrics[i] as Map<string, number>;
    const was = before503[i] as Map<string, number>;
    // Refusals also carry a `reason` label: sum every sample of the result.
    const total = (m: Map<string, number>, label: string): number => [...m].filter(([k]) => k.startsWith(`herald_upgrades_total{result="${label}"`)).reduce((a, [, v]) => a + v, 0);
    const d = (label: string): number => total(now, label) - total(was, label);
    gatewayRefusals[g.name] = { ok: d('ok'), '503': d('503'), '429': d('429') };
  });

  const backMs = tallies.flatMap((t) => t.backMs).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const connects = tallies.flatMap((t) => t.connects);
  const survivors = [gw1, gw2].map((g, i) => ({
    name: g.name, peakRssBytes: (rss.peaks[i] as Peak).peakRss, alive: g.alive(), connections: metric(survivorMetrics[i] as Map<string, number>, 'herald_connections') ?? NaN,
  }));
  const r: Result = {
    config: { CLIENTS, PROCS, UPGRADE_RATE, HEAP_MB, RSS_LIMIT_MB, BOUND_S, PUBLISH_PER_S, HONOR_RETRY_AFTER, MIN_DELAY_MS, MAX_DELAY_MS },
    clients: CLIENTS,
    backCount: backMs.length,
    timeToAllMs: backMs.length === CLIENTS ? (backMs[backMs.length - 1] as number) : NaN,
    backMs: { p50: percentile(backMs, 50), p90: percentile(backMs, 90), p99: percentile(backMs, 99), max: backMs[backMs.length - 1] ?? NaN },
    refusals: merge(last.map((s) => s.refusals)),
    gatewayRefusals,
    connRefused: sum(last.map((s) => s.connRefused)),
    attempts: sum(last.map((s) => s.attempts)),
    sdkErrors: merge(last.map((s) => s.errors)),
    reconnectsPerClient: { mean: connects.length > 0 ? sum(connects) / connects.length - 1 : NaN, max: Math.max(...connects) - 1 },
    survivors,
    publishedDuringStorm,
    published: pub.seqs.length,
    publishRetries: pub.retries,
    delivered: sum(tallies.map((t) => t.delivered)),
    lost: sum(tallies.map((t) => t.lost)),
    clientsWithLoss: sum(tallies.map((t) => t.clientsWithLoss)),
    duplicated: sum(tallies.map((t) => t.duplicated)),
    outOfOrder: sum(tallies.map((t) => t.outOfOrder)),
    unrecovered: sum(last.map((s) => s.unrecovered)),
    lossSample: tallies.flatMap((t) => t.sample).slice(0, 5),
    crashes,
    failures: [],
  };
  if (!allBack || r.backCount < CLIENTS) r.failures.push(`${CLIENTS - r.backCount} clients not back within ${BOUND_S}s${crashes.length > 0 ? ' (waiting stopped at a survivor crash)' : ''}`);
  for (const s of survivors) {
    if (!s.alive) r.failures.push(`${s.name} crashed: ${crashes.find((c) => c.name === s.name)?.tail.find((l) => /Error/.test(l))?.slice(0, 160) ?? 'see its output'}`);
    if (s.peakRssBytes > RSS_LIMIT_MB * 1024 * 1024) r.failures.push(`${s.name} peak RSS ${mb(s.peakRssBytes)} MB > ${RSS_LIMIT_MB} MB`);
  }
  if (r.lost > 0) r.failures.push(`${r.lost} messages lost (${r.clientsWithLoss} clients)`);
  if (r.duplicated > 0) r.failures.push(`${r.duplicated} duplicates handed to the app`);
  if (r.outOfOrder > 0) r.failures.push(`${r.outOfOrder} out of order`);
  if (r.unrecovered > 0) r.failures.push(`${r.unrecovered} unrecovered events`);
  return r;
}

function markdown(r: Result): string {
  const s = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '—');
  const lines = [
    '# Reconnect storm', '',
    `${r.clients} SDK clients (@herald/client over \`ws\`, ${PROCS} processes, backoff base ${MIN_DELAY_MS} ms cap ${MAX_DELAY_MS} ms, full jitter${HONOR_RETRY_AFTER ? ', Retry-After honored' : ''}) on gateway 0 of 3, one topic, ${PUBLISH_PER_S} publishes/s through the publish API; gateway 0 SIGKILLed; survivors: \`--max-old-space-size=${HEAP_MB}\`, \`HERALD_UPGRADE_RATE=${UPGRADE_RATE}\`; one nats-server.`, '',
    table(['measure', 'value', 'bound', 'verdict'], [
      ['clients back', `${r.backCount} / ${r.clients}`, `all within ${BOUND_S} s`, r.backCount === r.clients ? 'ok' : 'FAIL'],
      ['time to all back (s)', s(r.timeToAllMs), `${BOUND_S}`, Number.isFinite(r.timeToAllMs) && r.timeToAllMs <= BOUND_S * 1000 ? 'ok' : 'FAIL'],
      ['per client back after (s) p50 / p90 / p99 / max', `${s(r.backMs.p50)} / ${s(r.backMs.p90)} / ${s(r.backMs.p99)} / ${s(r.backMs.max)}`, '', ''],
      ['refused upgrades seen by clients (by status)', JSON.stringify(r.refusals), '', 'info'],
      ['refusals counted by survivors (herald_upgrades_total)', Object.entries(r.gatewayRefusals).map(([k, v]) => `${k}: ok ${v['ok']}, 503 ${v['503']}, 429 ${v['429']}`).join('; '), '', 'info'],
      ['upgrade attempts (all, setup included) / TCP refused', `${r.attempts} / ${r.connRefused}`, '', 'info'],
      ['reconnects per client, mean / max', `${r.reconnectsPerClient.mean.toFixed(2)} / ${r.reconnectsPerClient.max}`, '', 'info'],
      ...r.survivors.map((v) => [`${v.name} peak RSS (MB) / connections after`, `${mb(v.peakRssBytes)} / ${v.connections}`, `${RSS_LIMIT_MB} MB, alive`, v.alive && v.peakRssBytes <= RSS_LIMIT_MB * 1024 * 1024 ? 'ok' : 'FAIL']),
      ['messages published (during the storm)', `${r.published} (${r.publishedDuringStorm}); ${r.publishRetries} publish retries`, '', 'info'],
      ['delivered to the app (all clients)', r.delivered, `${r.published} × ${r.clients} = ${r.published * r.clients}`, r.delivered === r.published * r.clients ? 'ok' : 'FAIL'],
      ['lost / duplicated / out of order / unrecovered', `${r.lost} / ${r.duplicated} / ${r.outOfOrder} / ${r.unrecovered}`, '0 / 0 / 0 / 0', r.lost + r.duplicated + r.outOfOrder + r.unrecovered === 0 ? 'ok' : 'FAIL'],
      ['SDK error events by code', JSON.stringify(r.sdkErrors), '', 'info'],
    ]),
    '', r.failures.length === 0 ? '**PASS**' : `**FAIL**: ${r.failures.join('; ')}`, '',
  ];
  if (r.lossSample.length > 0) lines.push('Loss sample: ' + r.lossSample.join('; '), '');
  for (const c of r.crashes) lines.push(`${c.name} crashed (${c.exit}); its last output:`, '', '```', ...c.tail.map((l) => l.slice(0, 300)), '```', '');
  return lines.join('\n');
}

runMain(TAG, async () => {
  const r = await storm();
  const md = markdown(r);
  writeResults('storm', r, md);
  process.stdout.write(md + '\n');
  for (const f of r.failures) progress(TAG, `FAIL ${f}`);
  return r.failures.length === 0 ? 0 : 1;
});
