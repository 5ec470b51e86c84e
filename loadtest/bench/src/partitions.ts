/**
 * `npm run bench:partitions`: JetStream publish capacity of a three-server NATS cluster
 * (R3, as in production) with 1 and with 3 partitions (HERALD_NATS_PARTITIONS), through the
 * bus publisher the publish API uses (NatsBus.publish: store, acknowledge with the seq).
 *
 * For each partition count: a fresh cluster, publisher connections spread over the three
 * servers, stream leaders spread over the servers (PART_BALANCE=1: leaders stepped down until
 * no server leads two partitions; the placement is printed either way), a warm-up that fills
 * every channel's history to its limit (the steady state: each store also evicts), then a
 * closed loop at fixed concurrency to random user channels for PART_SECONDS. It reports the
 * acknowledged publishes per second, the acknowledgement latency, and the CPU of each
 * nats-server and of the publishing process.
 *
 * PART_COUNTS (`1,3`), PART_SECONDS (15), PART_CONCURRENCY (256 publishes in flight),
 * PART_USERS (2000 channels), PART_HISTORY (10 messages per channel), PART_CONNECTIONS (3),
 * PART_BALANCE (1), PART_RUNS (1: runs per count, alternating).
 * @module
 */
import { cpus, loadavg } from 'node:os';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { NatsBus, partitionStream } from '@herald/bus';
import { NATS_SERVER_BIN, startNatsCluster, type NatsClusterHandle } from '@herald/testkit';
import { log, notification, progress, sleep } from './common.js';
import { cpuMs, machineJiffies, natsPids, natsServerVersion } from './procstat.js';
import { fromHistogram } from './stats.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const COUNTS = (process.env['PART_COUNTS'] ?? '1,3').split(',').map((s) => Number(s.trim()));
const SECONDS = env('PART_SECONDS', 15);
const CONCURRENCY = env('PART_CONCURRENCY', 256);
const USERS = env('PART_USERS', 2000);
const HISTORY = env('PART_HISTORY', 10);
const CONNECTIONS = env('PART_CONNECTIONS', 3);
const BALANCE = env('PART_BALANCE', 1) === 1;
const RUNS = env('PART_RUNS', 1);
const STREAM = 'HERALD';

interface RunResult {
  readonly partitions: number;
  readonly leaders: string;
  readonly acked: number;
  readonly rate: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  /** % of one core per nats-server, in server order, over the measured window. */
  readonly natsCpu: readonly number[];
  /** % of one core of this (publishing) process. */
  readonly clientCpu: number;
  readonly natsUsPerPublish: number;
  /** Busy share of the whole machine (every core, every process) over the window, %. */
  readonly machineBusy: number;
  readonly load: number;
}

/** Stream → leading server name. */
async function leaders(jsm: JetStreamManager, partitions: number): Promise<string[]> {
  return Promise.all(Array.from({ length: partitions }, async (_, k) => (await jsm.streams.info(partitionStream(STREAM, k))).cluster?.leader ?? '?'));
}

/** Steps leaders down until no server leads two partitions (when there are no more partitions than servers). */
async function balance(jsm: JetStreamManager, request: (subject: string) => Promise<unknown>, partitions: number, servers: number): Promise<string[]> {
  let placed = await leaders(jsm, partitions);
  for (let attempt = 0; attempt < 30 && partitions <= servers && new Set(placed).size < partitions; attempt++) {
    const k = placed.findIndex((l, i) => placed.indexOf(l) !== i);
    await request(`$JS.API.STREAM.LEADER.STEPDOWN.${partitionStream(STREAM, k)}`).catch(() => undefined);
    for (let i = 0; i < 50; i++) {
      await sleep(200);
      const now = await leaders(jsm, partitions).catch(() => placed);
      if (now[k] !== '?' && now[k] !== placed[k]) {
        placed = now;
        break;
      }
    }
  }
  return placed;
}

async function run(partitions: number): Promise<RunResult> {
  const cluster: NatsClusterHandle = await startNatsCluster(3);
  const buses: NatsBus[] = [];
  const admin = await connect({ servers: cluster.urls.split(',') });
  try {
    const ports = cluster.servers.map((s) => s.port);
    const pids = natsPids(ports);
    for (let i = 0; i < CONNECTIONS; i++) {
      buses.push(await NatsBus.connect({
        servers: cluster.servers[i % cluster.servers.length]?.url as string, partitions, replicas: 3, name: `bench-${i}`,
        history: { maxPerChannel: HISTORY }, timeoutMs: 10_000,
      }));
    }
    const jsm = await jetstreamManager(admin, { checkAPI: false });
    const placed = BALANCE ? await balance(jsm, (s) => admin.request(s, '', { timeout: 5_000 }), partitions, cluster.servers.length) : await leaders(jsm, partitions);
    const channels = Array.from({ length: USERS }, (_, i) => `user:bench-${i}`);
    const data = JSON.stringify(notification(1));

    let stop = false;
    let acked = 0;
    let failed = 0;
    let measuring = false;
    const hist = new Map<number, number>();
    const loop = async (bus: NatsBus): Promise<void> => {
      while (!stop) {
        const channel = channels[Math.floor(Math.random() * channels.length)] as string;
        const t0 = performance.now();
        try {
          await bus.publish({ channel, data });
          acked++;
          if (measuring) {
            const ms = Math.round(performance.now() - t0);
            hist.set(ms, (hist.get(ms) ?? 0) + 1);
          }
        } catch {
          failed++;
          await sleep(10);
        }
      }
    };
    const loops = Array.from({ length: CONCURRENCY }, (_, i) => loop(buses[i % buses.length] as NatsBus));

    // warm-up: every channel's history at its limit (each later store evicts one), JIT warm
    const warm = USERS * HISTORY * 1.5;
    while (acked < warm) {
      progress(`partitions ${partitions}: warm-up ${acked}/${warm}`);
      await sleep(250);
    }
    const a0 = acked;
    const f0 = failed;
    const cpu0 = pids.map(cpuMs);
    const me0 = process.cpuUsage();
    const m0 = machineJiffies();
    const t0 = performance.now();
    measuring = true;
    const end = t0 + SECONDS * 1000;
    while (performance.now() < end) {
      progress(`partitions ${partitions}: measuring ${Math.round((acked - a0) / ((performance.now() - t0) / 1000))}/s`);
      await sleep(500);
    }
    measuring = false;
    const wallMs = performance.now() - t0;
    const cpu1 = pids.map(cpuMs);
    const me = process.cpuUsage(me0);
    const m1 = machineJiffies();
    const done = acked - a0;
    stop = true;
    await Promise.all(loops);
    process.stderr.write('\n');
    const natsCpuMs = cpu1.map((c, i) => c - (cpu0[i] as number));
    const s = fromHistogram(hist);
    return {
      partitions,
      leaders: placed.join(' '),
      acked: done,
      rate: done / (wallMs / 1000),
      failed: failed - f0,
      p50: s.p50,
      p99: s.p99,
      natsCpu: natsCpuMs.map((ms) => (100 * ms) / wallMs),
      clientCpu: (100 * (me.user + me.system) / 1000) / wallMs,
      natsUsPerPublish: (natsCpuMs.reduce((x, y) => x + y, 0) * 1000) / Math.max(1, done),
      machineBusy: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
      load: loadavg()[0] ?? NaN,
    };
  } finally {
    await Promise.allSettled(buses.map((b) => b.close()));
    await admin.close().catch(() => undefined);
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load0 = loadavg()[0] ?? NaN;
  const results: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const n of COUNTS) {
      log(`run ${r + 1}/${RUNS}: ${n} partition(s)`);
      const res = await run(n);
      log(`  ${Math.round(res.rate)} acked/s, p99 ${res.p99} ms, leaders ${res.leaders}`);
      results.push(res);
    }
  }
  const lines = [
    `Run ${started}, \`${command()}\`: 3 nats-server ${natsServerVersion(NATS_SERVER_BIN)} (R3) on ${cpus().length} cores shared with the publisher; ` +
    `${CONNECTIONS} publisher connections (one per server) in one Node process, ${CONCURRENCY} publishes in flight, ${USERS} user channels chosen at random, ` +
    `~250-byte messages, history ${HISTORY} per channel (full after the warm-up: every store evicts), ${SECONDS} s measured; 1-minute load average ${load0.toFixed(1)} at the start.`,
    '',
    '| partitions | stream leaders | acked publishes/s | failed | p50 / p99 ms | nats-server CPU % of a core (n1, n2, n3) | nats-server CPU µs per publish (all three) | publisher CPU % | machine busy % (all cores, all processes) | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.partitions} | ${r.leaders} | ${Math.round(r.rate)} | ${r.failed} | ${r.p50} / ${r.p99} | ${r.natsCpu.map((c) => c.toFixed(0)).join(', ')} | ${r.natsUsPerPublish.toFixed(0)} | ${r.clientCpu.toFixed(0)} | ${r.machineBusy.toFixed(0)} | ${r.load.toFixed(1)} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function command(): string {
  const set = ['PART_COUNTS', 'PART_SECONDS', 'PART_CONCURRENCY', 'PART_USERS', 'PART_HISTORY', 'PART_CONNECTIONS', 'PART_BALANCE', 'PART_RUNS']
    .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return [...set, 'npm run bench:partitions'].join(' ');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(1);
  },
);
