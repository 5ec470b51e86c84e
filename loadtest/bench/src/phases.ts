/**
 * The measurements every scenario is built from: connect a set of authenticated sockets,
 * and publish at a rate while counting deliveries, latency and CPU.
 * @module
 */
import { signToken } from '@herald/auth';
import { TOPIC, log, progress, sleep } from './common.js';
import { contextSwitches, cpuMs, cpuSplitMs, rssBytes } from './procstat.js';
import { fromHistogram, summarize, type Summary } from './stats.js';
import { API_KEY, SECRET, type Running } from './targets.js';
import type { BodySpec, Published } from './publisher.js';
import type { LoadGens, Publisher } from './workers.js';

export interface ConnectResult { connections: number; failed: number; connectPerS: number; handshakeMs: Summary; rssPerConnBytes: number; extensions: string }
export interface DeliveryResult {
  messages: number;
  /** Rate the publisher achieved (messages over the time it took to send them). */
  publishedPerS: number;
  /** Publishes answered non-2xx, failed or timed out. */
  publishErrors: number;
  /** Worst delay of a publish behind its schedule, ms. */
  publishLagMaxMs: number;
  expected: number; deliveries: number; lost: number; deliveriesPerS: number;
  latencyMs: Summary; serverCpuMs: number; serverCpuPct: number; serverCpuUsPerDelivery: number; deliveriesPerCpuS: number;
  loadgenCpuPctMax: number; loadgenCpuUsPerDelivery: number; publisherCpuPct: number; wireBytesPerDelivery: number;
  /** Server CPU (ms) per role (`gateway`, `publish-api`, `nats-server`, `server`); gateways summed. */
  cpuByRoleMs: Record<string, number>;
  /** The same split into user space and kernel, and the context switches of each role (all threads). */
  procByRole: Record<string, ProcUse>;
}

/** What processes spent over a phase: CPU in user space and in the kernel (ms), and context switches. */
export interface ProcUse { userMs: number; systemMs: number; switches: number }

/** The client side of one target: load generators holding sockets, and a publisher. */
export interface Clients { gens: LoadGens; pub: Publisher }

export const cpuOf = (pids: number[]): number => pids.reduce((a, p) => a + cpuMs(p), 0);
export const rssOf = (pids: number[]): number => pids.reduce((a, p) => a + rssBytes(p), 0);
/** CPU ms of every role of a target (processes of the same role summed). */
export function cpuByRole(run: Running): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of run.roles) out[r.role] = (out[r.role] ?? 0) + cpuMs(r.pid);
  return out;
}

/** {@link ProcUse} so far of every role of a target (processes of the same role summed). */
export function procUseByRole(run: Running): Record<string, ProcUse> {
  const out: Record<string, ProcUse> = {};
  for (const r of run.roles) {
    const { userMs, systemMs } = cpuSplitMs(r.pid);
    const o = (out[r.role] ??= { userMs: 0, systemMs: 0, switches: 0 });
    o.userMs += userMs;
    o.systemMs += systemMs;
    o.switches += contextSwitches(r.pid);
  }
  return out;
}

const useSince = (a: Record<string, ProcUse>, b: Record<string, ProcUse>): Record<string, ProcUse> =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, { userMs: v.userMs - (a[k]?.userMs ?? 0), systemMs: v.systemMs - (a[k]?.systemMs ?? 0), switches: v.switches - (a[k]?.switches ?? 0) }]));

/** Tokens for connection indexes from..to-1; connection k belongs to user `u${k % users}`. */
export function tokensFor(from: number, to: number, users: number): Promise<string[]> {
  return Promise.all(Array.from({ length: to - from }, (_, k) => signToken({ secret: SECRET, sub: `u${(from + k) % users}`, topics: [TOPIC], ttlSec: 3600 })));
}

export async function connectPhase(run: Running, gens: LoadGens, tokens: string[], deflate: boolean): Promise<ConnectResult> {
  const rss0 = rssOf(run.socketPids);
  const c = await gens.connect(run.protocol, run.wsUrls, tokens, deflate);
  await sleep(500); // let allocation settle before reading RSS
  const rss1 = rssOf(run.socketPids);
  return {
    connections: c.count, failed: c.failed, connectPerS: (c.count / c.ms) * 1000, handshakeMs: summarize(c.handshakes),
    rssPerConnBytes: (rss1 - rss0) / Math.max(1, c.count), extensions: c.extensions,
  };
}

/**
 * Polls the generators until `expected` deliveries arrived, or none arrived for `quietMs`,
 * or `maxMs` passed (bounded: a lost message must not stall the bench).
 */
export async function awaitDeliveries(gens: LoadGens, expected: number, quietMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let lastChange = Date.now();
  let received = 0;
  while (Date.now() < deadline && Date.now() - lastChange < quietMs) {
    received = (await gens.count()).received;
    if (received >= expected) break;
    if (received !== last) { last = received; lastChange = Date.now(); }
    await sleep(100);
  }
  return received;
}

/** Reopens sockets the server closed in an earlier (overloaded) phase, so `expected` holds. */
async function restoreSubscribers(gens: LoadGens, label: string): Promise<void> {
  const dropped = (await gens.reconnect()).failed;
  if (dropped > 0) log(`  ${label}: ${dropped} dropped sockets could not reconnect`);
}

export interface WaitOpts { quietMs: number; maxMs: number }
const DEFAULT_WAIT: WaitOpts = { quietMs: 3000, maxMs: 15_000 };

/**
 * Publishes `messages` at `rate`/s from the publisher process, waits for `expected`
 * deliveries, measures. Returns what the publisher reported too (messages per user).
 */
export async function measure(run: Running, cl: Clients, label: string, messages: number, rate: number, expected: number, body: BodySpec, wait = DEFAULT_WAIT): Promise<{ d: DeliveryResult; sent: Published }> {
  await restoreSubscribers(cl.gens, label);
  const bytes0 = (await cl.gens.collect()).bytesRead;
  const cpu0 = cpuOf(run.pids);
  const roles0 = cpuByRole(run);
  const use0 = procUseByRole(run);
  const t0 = performance.now();
  let polling = false;
  const ticker = setInterval(() => {
    if (polling) return;
    polling = true;
    cl.gens.count().then(
      (c) => progress(`  ${label}: ${rate.toFixed(0)}/s, ${c.received}/${expected} delivered`),
      () => undefined,
    ).finally(() => (polling = false));
  }, 500);
  let sent: Published;
  try {
    sent = await cl.pub.run(run.publishUrl, API_KEY, rate, messages, body);
  } finally {
    clearInterval(ticker);
  }
  progress(`  ${label}: published ${sent.ok}/${messages} at ${sent.achievedPerS.toFixed(0)}/s, waiting for deliveries`);
  await awaitDeliveries(cl.gens, expected, wait.quietMs, wait.maxMs);
  const cpu1 = cpuOf(run.pids);
  const roles1 = cpuByRole(run);
  const use1 = procUseByRole(run);
  const wallMs = performance.now() - t0;
  const c = await cl.gens.collect();
  process.stderr.write('\n');
  const serverCpuMs = cpu1 - cpu0;
  const genCpu = c.cpuMs.reduce((a, b) => a + b, 0);
  const d: DeliveryResult = {
    messages, publishedPerS: sent.achievedPerS, publishErrors: sent.errors, publishLagMaxMs: sent.lagMaxMs,
    expected, deliveries: c.received, lost: Math.max(0, expected - c.received),
    deliveriesPerS: (c.received / c.wallMs) * 1000,
    latencyMs: fromHistogram(c.hist), serverCpuMs, serverCpuPct: (serverCpuMs / wallMs) * 100,
    serverCpuUsPerDelivery: (serverCpuMs * 1000) / Math.max(1, c.received),
    deliveriesPerCpuS: serverCpuMs > 0 ? (c.received / serverCpuMs) * 1000 : NaN,
    loadgenCpuPctMax: (Math.max(...c.cpuMs) / c.wallMs) * 100,
    loadgenCpuUsPerDelivery: (genCpu * 1000) / Math.max(1, c.received),
    publisherCpuPct: (sent.cpuMs / sent.wallMs) * 100,
    wireBytesPerDelivery: (c.bytesRead - bytes0) / Math.max(1, c.received),
    cpuByRoleMs: Object.fromEntries(Object.entries(roles1).map(([k, v]) => [k, v - (roles0[k] ?? 0)])),
    procByRole: useSince(use0, use1),
  };
  if (sent.errors > 0) log(`  ${label}: ${sent.errors} publishes failed (first: ${sent.firstError})`);
  return { d, sent };
}

export async function deliveryPhase(run: Running, cl: Clients, label: string, messages: number, rate: number, expected: number, body: BodySpec, wait = DEFAULT_WAIT): Promise<DeliveryResult> {
  return (await measure(run, cl, label, messages, rate, expected, body, wait)).d;
}

export const fmtD = (d: DeliveryResult): string => `${d.deliveries}/${d.expected} delivered, lost ${d.lost}, published ${d.publishedPerS.toFixed(0)}/s (${d.publishErrors} errors), p50/p99 ${d.latencyMs.p50}/${d.latencyMs.p99} ms, ${d.serverCpuUsPerDelivery.toFixed(2)} µs server CPU/delivery, loadgen max ${d.loadgenCpuPctMax.toFixed(0)}% / publisher ${d.publisherCpuPct.toFixed(0)}% of a core`;
