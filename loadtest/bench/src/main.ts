/**
 * `npm run bench`: Herald against the ceiling (a minimal raw uWS server), one target
 * after another, driven by one load generator in its own process. Reports connect
 * rate, handshake latency, memory per connection, fan-out latency, loss and server
 * CPU time per delivered message, with Herald's ratio to the ceiling.
 * Sizes: BENCH_CONNS (2000), BENCH_MESSAGES (200), BENCH_RATE (messages/s, 100).
 * @module
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { signToken } from '@herald/auth';
import { cpuMs, rssBytes } from './procstat.js';
import { summarize, type Summary } from './stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const CONNS = Number(process.env['BENCH_CONNS'] ?? 2000);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const RATE = Number(process.env['BENCH_RATE'] ?? 100);
const SECRET = 'bench-secret-0123456789abcdef0123';
const API_KEY = 'bench-api-key-0123456789abcdef';
const TOPIC = 'bench';

interface Target {
  readonly name: string;
  readonly args: string[];
  readonly publishPath: string;
}

const TARGETS: Target[] = [
  { name: 'ceiling (raw uWS)', args: [join(here, 'ceiling.js')], publishPath: '/publish' },
  { name: 'herald dev (memory bus)', args: [join(ROOT, 'services/herald/dist/cli.js'), 'dev'], publishPath: '/v1/publish' },
];

interface Result {
  target: string;
  connections: number;
  connectPerS: number;
  handshake: Summary;
  rssPerConnBytes: number;
  messages: number;
  deliveries: number;
  lost: number;
  latencyMs: Summary;
  serverCpuUsPerDelivery: number;
  loadgenCpuMs: number;
}

const log = (s: string): void => void process.stderr.write(s + '\n');

function startServer(t: Target): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, t.args, {
    env: {
      PATH: process.env['PATH'] ?? '',
      HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY,
      HERALD_LOG_LEVEL: 'info', HERALD_UPGRADE_RATE: '100000', HERALD_MAX_CONNECTIONS_PER_USER: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr?.resume();
  return new Promise((resolvePort, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg === 'listening' && typeof rec.port === 'number') resolvePort({ child, port: rec.port });
      } catch { /* not JSON */ }
    });
    child.once('exit', (code) => reject(new Error(`${t.name} exited with ${code}`)));
  });
}

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

async function runTarget(t: Target, tokens: string[]): Promise<Result> {
  log(`\n▶ ${t.name}: starting`);
  const { child, port } = await startServer(t);
  const pid = child.pid as number;
  const gen = fork(join(here, 'loadgen.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((r) => gen.once('message', () => r()));
  const rss0 = rssBytes(pid);
  log(`  connecting ${CONNS} authenticated sockets…`);
  const conn = await ask<{ count: number; ms: number; handshakes: number[] }>(gen, { type: 'connect', url: `ws://127.0.0.1:${port}/v1/ws`, tokens, topic: TOPIC, concurrency: 50 }, 'connected');
  await new Promise((r) => setTimeout(r, 500)); // let allocation settle before reading RSS
  const rss1 = rssBytes(pid);
  log(`  ${conn.count} connected in ${conn.ms.toFixed(0)} ms; fan-out of ${MESSAGES} messages at ${RATE}/s…`);
  await ask(gen, { type: 'collect' }, 'collected');
  const cpu0 = cpuMs(pid);
  const expected = conn.count * MESSAGES;
  const interval = 1000 / RATE;
  const startAt = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const due = startAt + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const res = await fetch(`http://127.0.0.1:${port}${t.publishPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ topic: TOPIC, data: { i, kind: 'price', value: 100 + i } }),
    });
    await res.arrayBuffer();
    if (i % Math.max(1, Math.floor(MESSAGES / 10)) === 0) process.stderr.write(`  published ${i}/${MESSAGES}\r`);
  }
  const deadline = Date.now() + 15_000;
  let received = 0;
  while (Date.now() < deadline) {
    received = (await ask<{ received: number }>(gen, { type: 'count' }, 'count')).received;
    if (received >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cpu1 = cpuMs(pid);
  const collected = await ask<{ received: number; latencies: number[]; cpuMs: number }>(gen, { type: 'collect' }, 'collected');
  gen.send({ type: 'exit' });
  child.kill('SIGKILL');
  const r: Result = {
    target: t.name,
    connections: conn.count,
    connectPerS: (conn.count / conn.ms) * 1000,
    handshake: summarize(conn.handshakes),
    rssPerConnBytes: (rss1 - rss0) / conn.count,
    messages: MESSAGES,
    deliveries: collected.received,
    lost: expected - collected.received,
    latencyMs: summarize(collected.latencies),
    serverCpuUsPerDelivery: ((cpu1 - cpu0) * 1000) / Math.max(1, collected.received),
    loadgenCpuMs: collected.cpuMs,
  };
  log(`  done: ${r.deliveries} deliveries, lost ${r.lost}, p99 ${r.latencyMs.p99} ms, ${r.serverCpuUsPerDelivery.toFixed(2)} µs CPU/delivery`);
  return r;
}

function table(results: Result[]): string {
  const ceiling = results[0] as Result;
  const ratio = (v: number, base: number): string => (base > 0 ? `${(v / base).toFixed(2)}×` : 'n/a');
  const rows = results.map((r) =>
    `| ${r.target} | ${r.connectPerS.toFixed(0)} (${ratio(r.connectPerS, ceiling.connectPerS)}) | ${r.handshake.p50.toFixed(1)} / ${r.handshake.p99.toFixed(1)} | ${(r.rssPerConnBytes / 1024).toFixed(1)} (${ratio(r.rssPerConnBytes, ceiling.rssPerConnBytes)}) | ${r.deliveries} | ${r.lost} | ${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999} | ${r.serverCpuUsPerDelivery.toFixed(2)} (${ratio(r.serverCpuUsPerDelivery, ceiling.serverCpuUsPerDelivery)}) |`,
  );
  return [
    `${CONNS} connections, each subscribed to one topic; ${MESSAGES} messages at ${RATE}/s fanned out to all of them.`,
    '',
    '| target | connects/s (vs ceiling) | handshake p50 / p99 ms | RSS KiB per conn (vs ceiling) | deliveries | lost | latency p50 / p99 / p99.9 ms | server CPU µs per delivery (vs ceiling) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  log(`bench: ${CONNS} connections, ${MESSAGES} messages at ${RATE}/s`);
  const tokens = await Promise.all(Array.from({ length: CONNS }, (_, i) => signToken({ secret: SECRET, sub: `u${i}`, topics: [TOPIC], ttlSec: 3600 })));
  const results: Result[] = [];
  for (const t of TARGETS) results.push(await runTarget(t, tokens));
  const out = join(ROOT, 'loadtest/bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), JSON.stringify({ at: new Date().toISOString(), conns: CONNS, messages: MESSAGES, rate: RATE, results }, null, 2));
  const md = table(results);
  writeFileSync(join(out, 'latest.md'), md + '\n');
  process.stdout.write('\n' + md + '\n');
  log(`\nwritten: loadtest/bench/results/latest.json and latest.md`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
