/**
 * Memory per idle authenticated connection at scale: BENCH_IDLE_CONNS sockets (one user
 * each, HS256 token, subscribed to one topic; the personal channel comes with the
 * connection) opened in batches, left idle, then the RSS growth of the processes holding
 * the sockets divided by the connections.
 * One process may hold at most `ulimit -n` (20,000 here, hard limit) descriptors, so the
 * default stays under it; the client side is spread over enough load generators.
 * @module
 */
import { log, progress, sleep } from './common.js';
import { rssOf } from './phases.js';
import type { TargetDef } from './targets.js';
import { endRun, LoadGens } from './workers.js';

export interface IdleResult {
  key: string; target: string; connections: number; failed: number; loadgens: number;
  rssBeforeBytes: number; rssAfterBytes: number; bytesPerConn: number;
  connectS: number; settleS: number;
}

const BATCH = 2500;
/** Sockets per load generator: well under its own 20,000-descriptor limit. */
const MAX_CONNS_PER_LOADGEN = 12_000;
const IDLE_MS = 2000;
const SETTLE_STEP_MS = 1000;
const SETTLE_MAX_MS = 15_000;
/** RSS counts as settled when two samples a second apart differ by less than this share. */
const SETTLED_SHARE = 0.005;

/** RSS once it stops moving (bounded: after SETTLE_MAX_MS the last sample is taken). */
async function settledRss(pids: number[]): Promise<{ rss: number; ms: number }> {
  const t0 = Date.now();
  let prev = rssOf(pids);
  for (;;) {
    await sleep(SETTLE_STEP_MS);
    const cur = rssOf(pids);
    if (Math.abs(cur - prev) <= cur * SETTLED_SHARE || Date.now() - t0 >= SETTLE_MAX_MS) return { rss: cur, ms: Date.now() - t0 };
    prev = cur;
  }
}

export async function runIdle(t: TargetDef, tokens: string[], minLoadgens: number): Promise<IdleResult> {
  const loadgens = Math.max(minLoadgens, Math.ceil(tokens.length / MAX_CONNS_PER_LOADGEN));
  log(`▶ idle memory: ${t.name}, ${tokens.length} authenticated connections over ${loadgens} load generators`);
  const run = await t.start();
  const gens = await LoadGens.start(loadgens);
  try {
    const before = await settledRss(run.socketPids);
    const t0 = performance.now();
    let connections = 0;
    let failed = 0;
    for (let i = 0; i < tokens.length; i += BATCH) {
      const c = await gens.connect(run.protocol, run.wsUrls, tokens.slice(i, i + BATCH), false, 100);
      connections = c.count; // the generators report every socket they hold
      failed += c.failed;
      progress(`  idle: ${connections}/${tokens.length} connected (${failed} failed)`);
    }
    const connectS = (performance.now() - t0) / 1000;
    process.stderr.write('\n');
    await sleep(IDLE_MS); // idle: handshake buffers and promises are released
    const after = await settledRss(run.socketPids);
    const held = (await gens.count()).open;
    const r: IdleResult = {
      key: t.key, target: t.name, connections: held, failed, loadgens,
      rssBeforeBytes: before.rss, rssAfterBytes: after.rss, bytesPerConn: (after.rss - before.rss) / Math.max(1, held),
      connectS, settleS: after.ms / 1000,
    };
    log(`  ${held} idle connections (${failed} failed) in ${connectS.toFixed(0)} s; RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB: ${(r.bytesPerConn / 1024).toFixed(1)} KiB/conn`);
    return r;
  } finally {
    await endRun(gens, undefined, run);
  }
}
