/**
 * `npm run bench:stream-settings`: what each setting of Herald's JetStream stream costs
 * nats-server per publish on the per-user path, one change at a time against Herald's own
 * configuration.
 *
 * Each run: a fresh single nats-server (testkit), the stream made by the bus's own
 * `streamConfig` (File storage, discard old, 100 per channel, 1 h, 2-min dedupe window,
 * allow_direct, RePublish `<p>.in.>` → `<p>.out.>`) with the variant's one change, a
 * "gateway" child process holding one core subscription per user on the live subjects, and
 * this process publishing through the bus's JetStreamPublisher (the publish API's hot path:
 * Herald-Ts, Nats-Expected-Stream, Herald-Id + Nats-Msg-Id when an id is given, one shared
 * reply subscription, one socket write per event-loop turn). First every user's history is
 * filled to its limit as fast as the server takes it (the steady state: each store evicts
 * one), then publishes to random users at a fixed rate (SS_RATE/s, ~100-byte JSON): SS_WARM
 * seconds of warm-up, SS_SECONDS measured. Measured: nats-server CPU (utime+stime from /proc)
 * per acknowledged publish, this process's and the gateway child's CPU per publish, the
 * acknowledgement latency (publish call → ack), and the live copies the gateway received.
 *
 * Every round runs the baseline and then each variant (order rotated per round); results are
 * reported as ratios to the baseline of the same round (the box is shared and noisy), median
 * and range over SS_ROUNDS rounds. The bench writes RESULTS-stream-settings.md next to its
 * package, keeping a hand-written `## Conclusion` section of an earlier file.
 *
 * SS_ROUNDS (3), SS_SECONDS (10), SS_WARM (3), SS_RATE (3000), SS_USERS (2000),
 * SS_HISTORY (100: history per user, Herald's default), SS_FILL_MAX_S (60: a slower fill is cut and
 * the variant not measured at the fixed rate), SS_VARIANTS (all: comma-separated names),
 * SS_OUT (the results file).
 * @module
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers, type MsgHdrs, type NatsConnection, type PublishOptions, type Payload } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { DEFAULT_HISTORY_OPTIONS, partitionStream, subjectScheme } from '@herald/bus';
import { NATS_SERVER_BIN, startNatsServer, type NatsServerHandle } from '@herald/testkit';
// The bus's own stream configuration and publisher (internal to NatsBus, not in its public API):
// through the package's bench/diagnostic entry.
import { JetStreamPublisher, msgIdOf, streamConfig } from '@herald/bus/internals';
import { log, progress, sleep } from './common.js';
import { cpuMs, machineJiffies, natsPids, natsServerVersion, rssBytes } from './procstat.js';
import { fromHistogram } from './stats.js';

const env = (k: string, d: number): number => Number(process.env[k] ?? d);
const ROUNDS = env('SS_ROUNDS', 3);
const SECONDS = env('SS_SECONDS', 10);
const WARM = env('SS_WARM', 3);
const RATE = env('SS_RATE', 3000);
const USERS = env('SS_USERS', 2000);
const HISTORY = env('SS_HISTORY', DEFAULT_HISTORY_OPTIONS.maxPerChannel);
const FILL_MAX_S = env('SS_FILL_MAX_S', 60);
const FILL_IN_FLIGHT = 512;
const STREAM = 'HERALD';
const RESULTS = process.env['SS_OUT'] ?? fileURLToPath(new URL('../RESULTS-stream-settings.md', import.meta.url));

type Config = Partial<StreamConfig> & { name: string };

/** One change against Herald's configuration. */
interface Variant {
  readonly name: string;
  readonly what: string;
  /** The stream configuration from Herald's. */
  readonly config?: (c: Config) => Config;
  /** Publishes carry an id (Herald-Id + Nats-Msg-Id). */
  readonly ids?: boolean;
  /** Publishes carry Nats-Expected-Stream. */
  readonly expectedStream?: boolean;
  /** The gateway subscribes to the stored subjects (no RePublish). */
  readonly subscribeIn?: boolean;
  /** nats-server configuration lines (checked with `nats-server -t` first). */
  readonly serverConf?: readonly string[];
  /** Environment of the nats-server process. */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** Streams the channels are spread over (HERALD_NATS_PARTITIONS; 1 unless said). */
  readonly partitions?: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'baseline', what: "Herald's stream, publishes with an id" },
  { name: 'memory', what: 'storage Memory instead of File', config: (c) => ({ ...c, storage: StorageType.Memory }) },
  { name: 'no-republish', what: 'no RePublish; the gateway subscribes to the stored `in` subjects (core delivery of the publish itself)', subscribeIn: true, config: (c) => withoutRepublish(c) },
  { name: 'headers-only', what: 'RePublish headers_only (the live copy carries no data)', config: (c) => ({ ...c, republish: { ...(c.republish as { src: string; dest: string }), headers_only: true } }) },
  { name: 'no-ids', what: 'publishes without id (no Nats-Msg-Id, no Herald-Id: the publish API\'s plain path)', ids: false },
  { name: 'dedupe-1s', what: 'duplicate_window 1 s instead of 2 min', config: (c) => ({ ...c, duplicate_window: 1_000_000_000 }) },
  { name: 'per-subject-unlimited', what: 'max_msgs_per_subject unlimited instead of 100 (no eviction per store)', config: (c) => ({ ...c, max_msgs_per_subject: -1 }) },
  { name: 'no-direct', what: 'allow_direct off', config: (c) => ({ ...c, allow_direct: false }) },
  { name: 'no-expected-stream', what: 'publishes without Nats-Expected-Stream', expectedStream: false },
  { name: 'gomaxprocs-1', what: 'nats-server run with GOMAXPROCS=1 (a process setting, not a stream one)', serverEnv: { GOMAXPROCS: '1' } },
  { name: 'partitions-3', what: 'HERALD_NATS_PARTITIONS=3: the same channels over three such streams (not a stream setting)', partitions: 3 },
  { name: 'sync-always', what: 'jetstream { sync_interval: always } (fsync every write; 2.10+)', serverConf: ['sync_interval: always'] },
];

function withoutRepublish(c: Config): Config {
  const { republish: _republish, ...rest } = c;
  return rest as Config;
}

interface RunResult {
  readonly variant: string;
  readonly round: number;
  readonly acked: number;
  readonly rate: number;
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  readonly natsUs: number;
  readonly pubUs: number;
  readonly subUs: number;
  /** Live copies the gateway received over acknowledged publishes in the window. */
  readonly delivered: number;
  readonly natsRssMb: number;
  readonly fillRate: number;
  /** nats-server CPU per publish during the fill (closed loop, as fast as it takes them). */
  readonly fillNatsUs: number;
  /** The fill did not finish within SS_FILL_MAX_S: nothing measured at the fixed rate. */
  readonly fillIncomplete: boolean;
  readonly machineBusy: number;
  readonly load: number;
}

/** Why this nats-server refuses the variant's configuration lines; undefined when it takes them. */
function refusal(lines: readonly string[]): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'herald-ss-'));
  try {
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, `listen: 127.0.0.1:4222\njetstream { store_dir: "${join(dir, 'js')}", ${lines.join(', ')} }\n`);
    execFileSync(NATS_SERVER_BIN, ['-t', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    return `${e.stderr?.toString() ?? ''}${e.stdout?.toString() ?? ''}`.replace(`${dir}/`, '').trim() || 'refused';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child "gateway": one core subscription per user, counting what arrives. */
interface GatewayChild {
  readonly child: ChildProcess;
  count(): Promise<number>;
  stop(): Promise<void>;
}

async function startGateway(url: string, subjects: readonly string[]): Promise<GatewayChild> {
  const child = fork(fileURLToPath(import.meta.url), ['gateway'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: ((n: number) => void)[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string; n?: number }) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'count') replies.shift()?.(m.n ?? 0);
    });
    child.once('exit', (code) => reject(new Error(`gateway child exited (${String(code)})`)));
  });
  child.send({ url, subjects });
  await ready;
  return {
    child,
    count: () => new Promise<number>((resolve) => {
      replies.push(resolve);
      child.send({ type: 'count' });
    }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** Child side: subscribes, reads the headers a gateway reads of each live copy (seq, time stamp), counts every message. */
function gatewayMain(): void {
  let received = 0;
  let nc: NatsConnection | undefined;
  process.on('message', (m: { url?: string; subjects?: string[]; type?: string }) => {
    if (m.type === 'count') {
      process.send?.({ type: 'count', n: received });
      return;
    }
    if (m.url === undefined || m.subjects === undefined) return;
    const { url, subjects } = m;
    void (async () => {
      nc = await connect({ servers: url, name: 'bench-gateway' });
      for (const s of subjects) {
        nc.subscribe(s, {
          callback: (err, msg) => {
            if (err) return;
            // what the gateway reads of a live copy: its seq (absent on a raw publish) and time stamp
            const h = msg.headers;
            if (h !== undefined && h.get('Nats-Sequence').length + h.get('Herald-Ts').length >= 0) received++;
          },
        });
      }
      await nc.flush();
      process.send?.({ type: 'ready' });
    })().catch((err: unknown) => {
      process.stderr.write(`gateway child: ${String(err)}\n`);
      process.exit(1);
    });
  });
  process.on('SIGTERM', () => {
    void (nc?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

/** A connection whose publishes drop Nats-Expected-Stream (the variant); everything else is the connection's. */
function withoutExpectedStream(nc: NatsConnection): NatsConnection {
  const publish = (subject: string, data?: Payload, opts?: PublishOptions): void => {
    let h: MsgHdrs | undefined;
    if (opts?.headers !== undefined) {
      h = headers();
      for (const [k, vs] of opts.headers) if (k !== 'Nats-Expected-Stream') for (const v of vs) h.append(k, v);
    }
    nc.publish(subject, data, { ...opts, ...(h === undefined ? {} : { headers: h }) });
  };
  return new Proxy(nc, {
    get: (target, p) => {
      if (p === 'publish') return publish;
      const v: unknown = Reflect.get(target, p);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A ~100-byte JSON notification. */
const dataOf = (i: number): string => JSON.stringify({ type: 'order.updated', orderId: `ord_${100000 + (i % 997)}`, status: i % 2 ? 'shipped' : 'packed', i });

/** startNatsServer with the variant's configuration lines and environment (testkit's child inherits this process's environment). */
async function startServer(v: Variant): Promise<NatsServerHandle> {
  const saved = Object.keys(v.serverEnv ?? {}).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, v.serverEnv);
  try {
    return await startNatsServer(v.serverConf === undefined ? {} : { extraConf: [`jetstream { ${v.serverConf.join(', ')} }`] });
  } finally {
    for (const [k, old] of saved) {
      if (old === undefined) delete process.env[k];
      else process.env[k] = old;
    }
  }
}

async function run(v: Variant, round: number): Promise<RunResult> {
  const server = await startServer(v);
  const tag = `r${round}-${v.name}-`;
  let gateway: GatewayChild | undefined;
  const admin = await connect({ servers: server.url, name: 'bench-admin' });
  const pubNc = await connect({ servers: server.url, name: 'bench-publish-api' });
  const publishers: JetStreamPublisher[] = [];
  try {
    const pid = natsPids([server.port])[0] as number;
    const scheme = subjectScheme(undefined, v.partitions ?? 1);
    const streams = Array.from({ length: scheme.partitions }, (_, k) => partitionStream(STREAM, k));
    const jsm = await jetstreamManager(admin, { checkAPI: false });
    for (const [k, name] of streams.entries()) {
      const base = streamConfig(name, { ...DEFAULT_HISTORY_OPTIONS, maxPerChannel: HISTORY }, 1, scheme, k) as Config;
      await jsm.streams.add(v.config ? v.config(base) : base);
    }

    const channels = Array.from({ length: USERS }, (_, i) => `user:bench-${i}`);
    const routes = channels.map((c) => scheme.locate(c));
    gateway = await startGateway(server.url, routes.map((r) => (v.subscribeIn === true ? r.in : r.out)));
    const nc = v.expectedStream === false ? withoutExpectedStream(pubNc) : pubNc;
    for (const name of streams) publishers.push(new JetStreamPublisher(nc, name, 10_000));
    const ids = v.ids !== false;
    let n = 0;
    const publishOne = (user: number): Promise<unknown> => {
      const i = n++;
      const channel = channels[user] as string;
      const route = routes[user] as (typeof routes)[number];
      const pub = publishers[route.partition] as JetStreamPublisher;
      const data = dataOf(i);
      if (!ids) return pub.publish({ subject: route.in, data });
      const id = tag + i.toString(36);
      return pub.publish({ subject: route.in, data, id, msgId: msgIdOf(channel, id) });
    };

    // Fill: every user's history to its limit, as fast as the server takes it.
    let failed = 0;
    const fillTotal = USERS * HISTORY;
    let next = 0;
    const f0 = performance.now();
    const fillDeadline = f0 + FILL_MAX_S * 1000;
    const fillCpu0 = cpuMs(pid);
    const filler = async (): Promise<void> => {
      while (next < fillTotal && performance.now() < fillDeadline) {
        const k = next++;
        await publishOne(k % USERS).catch(() => { failed++; });
        if (k % 5000 === 0) progress(`round ${round} ${v.name}: fill ${k}/${fillTotal}`);
      }
    };
    await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, filler));
    const fillRate = next / ((performance.now() - f0) / 1000);
    const fillNatsUs = ((cpuMs(pid) - fillCpu0) * 1000) / Math.max(1, next);
    let held = 0;
    for (const name of streams) held += (await jsm.streams.info(name)).state.messages;
    if (held !== fillTotal) log(`  (${v.name}: ${held} messages held after the fill, expected ${fillTotal})`);
    if (next < fillTotal) {
      process.stderr.write('\n');
      log(`  ${v.name}: fill not done in ${FILL_MAX_S} s (${next}/${fillTotal} at ${Math.round(fillRate)}/s): not measured at ${RATE}/s`);
      return {
        variant: v.name, round, acked: 0, rate: NaN, failed, p50: NaN, p99: NaN, natsUs: NaN, pubUs: NaN, subUs: NaN, delivered: NaN,
        natsRssMb: rssBytes(pid) / 1048576, fillRate, fillNatsUs, fillIncomplete: true, machineBusy: NaN, load: loadavg()[0] ?? NaN,
      };
    }

    // Fixed rate to random users: warm-up, then the measured window.
    let acked = 0;
    let measuring = false;
    const hist = new Map<number, number>();
    const inFlight = new Set<Promise<unknown>>();
    const r0 = performance.now();
    let sent = 0;
    const tick = (): void => {
      const due = Math.floor((RATE * (performance.now() - r0)) / 1000) - sent;
      for (let j = 0; j < due; j++) {
        sent++;
        const t = performance.now();
        const timed = measuring;
        const p = publishOne(Math.floor(Math.random() * USERS)).then(
          () => {
            acked++;
            if (timed) {
              const k = Math.round((performance.now() - t) * 100); // 10 µs buckets
              hist.set(k, (hist.get(k) ?? 0) + 1);
            }
          },
          () => { failed++; },
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    };
    const timer = setInterval(tick, 1);
    await sleep(WARM * 1000);
    // start of the window: counts, then CPU readings, in that order at both ends
    measuring = true;
    const a0 = acked;
    const fl0 = failed;
    const g0 = await gateway.count();
    const cpu0 = cpuMs(pid);
    const sub0 = cpuMs(gateway.child.pid as number);
    const me0 = process.cpuUsage();
    const m0 = machineJiffies();
    const t0 = performance.now();
    const end = t0 + SECONDS * 1000;
    while (performance.now() < end) {
      progress(`round ${round} ${v.name}: measuring ${Math.round((acked - a0) / Math.max(0.001, (performance.now() - t0) / 1000))}/s`);
      await sleep(500);
    }
    const wallMs = performance.now() - t0;
    const cpu1 = cpuMs(pid);
    const sub1 = cpuMs(gateway.child.pid as number);
    const me = process.cpuUsage(me0);
    const m1 = machineJiffies();
    const done = acked - a0;
    const g1 = await gateway.count();
    measuring = false;
    clearInterval(timer);
    await Promise.all([...inFlight]);
    process.stderr.write('\n');
    const s = fromHistogram(hist);
    const per = (ms: number): number => (ms * 1000) / Math.max(1, done);
    return {
      variant: v.name,
      round,
      acked: done,
      rate: done / (wallMs / 1000),
      failed: failed - fl0,
      p50: s.p50 / 100,
      p99: s.p99 / 100,
      natsUs: per(cpu1 - cpu0),
      pubUs: per((me.user + me.system) / 1000),
      subUs: per(sub1 - sub0),
      delivered: (g1 - g0) / Math.max(1, done),
      natsRssMb: rssBytes(pid) / 1048576,
      fillRate,
      fillNatsUs,
      fillIncomplete: false,
      machineBusy: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
      load: loadavg()[0] ?? NaN,
    };
  } finally {
    for (const p of publishers) p.close();
    await gateway?.stop().catch(() => undefined);
    await pubNc.close().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await server.stop();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const f0 = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** `median (min–max)` of the per-round ratios to the baseline of the same round. */
function ratioCell(runs: readonly RunResult[], base: ReadonlyMap<number, RunResult>, pick: (r: RunResult) => number): string {
  const ratios = runs.map((r) => pick(r) / pick(base.get(r.round) as RunResult)).filter(Number.isFinite);
  if (ratios.length === 0) return '–';
  return `${f2(median(ratios))} (${f2(Math.min(...ratios))}–${f2(Math.max(...ratios))})`;
}

function report(started: string, load0: number, results: readonly RunResult[], skipped: ReadonlyMap<string, string>, variants: readonly Variant[]): string {
  const base = new Map(results.filter((r) => r.variant === 'baseline').map((r) => [r.round, r]));
  const rows = variants.filter((v) => !skipped.has(v.name)).map((v) => {
    const runs = results.filter((r) => r.variant === v.name && base.has(r.round));
    const m = (pick: (r: RunResult) => number): number => median(runs.map(pick));
    return `| ${v.name} | ${v.what} | ${runs.length} | ${f0(m((r) => r.natsUs))} | ${ratioCell(runs, base, (r) => r.natsUs)} | ${f0(m((r) => r.pubUs))} | ${ratioCell(runs, base, (r) => r.pubUs)} | ` +
      `${f0(m((r) => r.subUs))} | ${ratioCell(runs, base, (r) => r.subUs)} | ${f2(m((r) => r.p50))} / ${f2(m((r) => r.p99))} | ${f2(m((r) => r.delivered))} | ${f0(m((r) => r.fillRate))}${runs.some((r) => r.fillIncomplete) ? ' (fill not done in ' + FILL_MAX_S + ' s)' : ''} | ${f0(m((r) => r.fillNatsUs))} | ${ratioCell(runs, base, (r) => r.fillNatsUs)} |`;
  });
  const raw = results.map((r) => `| ${r.round} | ${r.variant} | ${f0(r.rate)} | ${r.failed} | ${f1(r.natsUs)} | ${f1(r.pubUs)} | ${f1(r.subUs)} | ${f2(r.p50)} / ${f2(r.p99)} | ${f2(r.delivered)} | ${f0(r.natsRssMb)} | ${f0(r.fillRate)}${r.fillIncomplete ? ' (not done)' : ''} | ${f1(r.fillNatsUs)} | ${f0(r.machineBusy)} | ${f1(r.load)} |`);
  return [
    '# Stream settings: nats-server cost per publish on the per-user path',
    '',
    `Run ${started}, \`${command()}\`: one nats-server ${natsServerVersion(NATS_SERVER_BIN)} on ${cpus().length} cores shared with the bench (and with whatever else ran on the box). ` +
    `Per run: a fresh server, the stream from the bus's \`streamConfig\` with the variant's one change, a gateway child process with ${USERS} core subscriptions ` +
    `(one per user, on the live \`herald.out.user.…\` subjects), publishes through the bus's \`JetStreamPublisher\` (Herald-Ts, Nats-Expected-Stream, Herald-Id + Nats-Msg-Id), ` +
    `~100-byte JSON. Each user's history is first filled to ${HISTORY} (every later store evicts one), then ${RATE} publishes/s to random users: ${WARM} s warm-up, ${SECONDS} s measured. ` +
    `${ROUNDS} rounds, each the baseline then every variant (order rotated per round); 1-minute load average ${load0.toFixed(1)} at the start.`,
    '',
    'Ratios are to the baseline of the same round: median (min–max) over the rounds. CPU figures are µs of CPU (user + system) per acknowledged publish over the measured window. ' +
    `The fill (${FILL_IN_FLIGHT} publishes in flight, as fast as the server takes them, at most ${FILL_MAX_S} s) gives a second figure: nats-server CPU per publish with the server saturated. ` +
    'A variant whose fill did not finish is not measured at the fixed rate.',
    '',
    '| variant | change | rounds | nats-server µs/publish | ratio | publisher µs/publish | ratio | gateway µs/publish | ratio | ack p50 / p99 ms | live copies per publish | fill publishes/s | fill: nats-server µs/publish | ratio |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    ...[...skipped].map(([name, why]) => `| ${name} | ${variants.find((v) => v.name === name)?.what ?? ''} | 0 | not run: nats-server refused the configuration (\`${why.replace(/\s+/g, ' ')}\`) | | | | | | | | | | |`),
    '',
    '<details><summary>Every run</summary>',
    '',
    '| round | variant | acked/s | failed | nats-server µs/publish | publisher µs/publish | gateway µs/publish | ack p50 / p99 ms | live copies per publish | nats-server RSS MB | fill publishes/s | fill: nats-server µs/publish | machine busy % | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...raw,
    '',
    '</details>',
    '',
  ].join('\n');
}

function command(): string {
  const set = ['SS_ROUNDS', 'SS_SECONDS', 'SS_WARM', 'SS_RATE', 'SS_USERS', 'SS_HISTORY', 'SS_FILL_MAX_S', 'SS_VARIANTS', 'SS_OUT']
    .filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`);
  return [...set, 'npm run bench:stream-settings'].join(' ');
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  const load0 = loadavg()[0] ?? NaN;
  const wanted = process.env['SS_VARIANTS']?.split(',').map((s) => s.trim());
  const variants = VARIANTS.filter((v) => v.name === 'baseline' || wanted === undefined || wanted.includes(v.name));
  const skipped = new Map<string, string>();
  for (const v of variants) {
    if (v.serverConf === undefined) continue;
    const why = refusal(v.serverConf);
    if (why !== undefined) {
      skipped.set(v.name, why);
      log(`${v.name}: skipped, nats-server refuses it: ${why}`);
    }
  }
  const others = variants.filter((v) => v.name !== 'baseline' && !skipped.has(v.name));
  const baseline = variants[0] as Variant;
  const results: RunResult[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const k = others.length === 0 ? 0 : (round - 1) % others.length;
    const order = [baseline, ...others.slice(k), ...others.slice(0, k)];
    for (const v of order) {
      log(`round ${round}/${ROUNDS}: ${v.name}`);
      const r = await run(v, round);
      if (!r.fillIncomplete) log(`  ${Math.round(r.rate)} acked/s, nats-server ${r.natsUs.toFixed(1)} µs/publish, publisher ${r.pubUs.toFixed(1)}, gateway ${r.subUs.toFixed(1)}, p50/p99 ${r.p50}/${r.p99} ms, copies ${r.delivered.toFixed(2)}, fill ${Math.round(r.fillRate)}/s at ${r.fillNatsUs.toFixed(1)} µs`);
      results.push(r);
    }
  }
  const text = report(started, load0, results, skipped, variants);
  const kept = existsSync(RESULTS) ? /\n## Conclusion[\s\S]*$/.exec(readFileSync(RESULTS, 'utf8'))?.[0] ?? '' : '';
  writeFileSync(RESULTS, text + (kept === '' ? '' : kept.replace(/^\n/, '')));
  process.stdout.write(text);
  log(`written to ${RESULTS}`);
}

if (process.argv[2] === 'gateway') {
  gatewayMain();
} else {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
