// Reconnect storm on the multi-node bed (issue 4, item 3, CI-sized): every client sits on one
// gateway, which is SIGKILLed; its whole crowd arrives at once at the two survivors. Admission
// control (a lowered HERALD_UPGRADE_RATE: 503 + Retry-After) and the clients' full-jitter
// backoff spread the storm out; no survivor's RSS passes its bound, every client is back
// within a bound derived from the admission rate, and the SDK clients hold every message
// exactly once and in order. Prints its figures as one JSON line.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@herald/testkit';
import {
  Bed, Publishers, RawClient, RssSampler, memoryMb, metric, mintToken, quantile, settle, startClient, tcpExt, warmUp, type Recorder, type Target,
} from './bed.js';

/** CPU time (user + system) of a process so far, ms (clock ticks of 10 ms, Linux's USER_HZ). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const num = (name: string, dflt: number): number => Number(process.env[name] ?? dflt);

/** Clients in all, of which SDK clients (the rest are RawClients). */
const CLIENTS = num('STORM_CLIENTS', 1500);
const SDK_CLIENTS = num('STORM_SDK_CLIENTS', 300);
/**
 * HERALD_UPGRADE_RATE of the survivors, upgrades per second (burst = rate). Low enough that
 * admission binds even when the crowd arrives slowly: on a loaded 2-core machine the
 * test process, the balancer and the gateways bring about 125–250 upgrades/s to each
 * survivor (300/s was never reached, so nothing was refused).
 */
const SURVIVOR_UPGRADE_RATE = num('STORM_UPGRADE_RATE', 100);
/** Bound on each survivor's peak RSS, MB; the gateways run with a V8 old space of HEAP_MB. */
const RSS_LIMIT_MB = num('STORM_RSS_LIMIT_MB', 300);
const HEAP_MB = 256;
/** The backoff of every client (bed.ts startClient and RawClient): base 100 ms, cap 2 s. */
const BACKOFF_CAP_MS = 2000;
/** Retry-After of a rate refusal (services/gateway/src/conn/refusal.ts RETRY_AFTER_RATE_S). */
const RETRY_AFTER_MS = 1000;
/** For the test process (clients, load balancer) and the noise of a shared 2-core machine. */
const SLACK_MS = num('STORM_SLACK_MS', 10_000);
const TOPIC = 'storm.all';
const VICTIM = 'gw-1';
const SURVIVORS = ['gw-2', 'gw-3'];

/** The least time the survivors' token buckets (full at the kill) need to admit the whole crowd. */
const ADMISSION_FLOOR_MS = Math.max(0, ((CLIENTS - SURVIVORS.length * SURVIVOR_UPGRADE_RATE) / (SURVIVORS.length * SURVIVOR_UPGRADE_RATE)) * 1000);
/**
 * Every client is back within the time the survivors' admission needs for the crowd, plus
 * one backoff cap and one Retry-After (the last refused client may wait both), plus slack.
 */
const RECONNECT_BOUND_MS = Math.ceil((CLIENTS / (SURVIVORS.length * SURVIVOR_UPGRADE_RATE)) * 1000) + BACKOFF_CAP_MS + RETRY_AFTER_MS + SLACK_MS;

let bed: Bed;
const sdk: Recorder[] = [];
const raw: RawClient[] = [];

beforeAll(async () => {
  const survivorEnv = { HERALD_UPGRADE_RATE: String(SURVIVOR_UPGRADE_RATE) };
  bed = await new Bed({
    gatewayEnv: { HERALD_UPGRADE_RATE: '2000' }, // the victim fills up quickly
    gatewayEnvById: Object.fromEntries(SURVIVORS.map((id) => [id, survivorEnv])),
    gatewayNodeArgs: [`--max-old-space-size=${HEAP_MB}`],
    lbBacklog: 4096,
  }).start();
}, 90_000);
afterAll(async () => {
  for (const r of sdk) r.client.close();
  for (const c of raw) c.close();
  await bed?.stop();
});

/** Runs `fn` over `items`, `size` at a time. */
async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe('resilience bed: reconnect storm', () => {
  it(`the ${CLIENTS} clients of a SIGKILLed gateway come back through admission control, within a bound, with zero loss`, async () => {
    const victim = bed.gateway(VICTIM);
    const survivors = SURVIVORS.map((id) => bed.gateway(id));
    const t0 = Date.now();

    // 1. The whole crowd on the victim: the balancer routes only there while clients connect.
    bed.lb.setBackends([victim.proc.port]);
    const sdkUsers = Array.from({ length: SDK_CLIENTS }, (_, i) => `storm-u${i}`);
    await inBatches(sdkUsers, 50, async (u) => sdk.push(await startClient(bed.lb.url, u, [TOPIC])));
    const wsUrl = `ws://127.0.0.1:${bed.lb.port}/v1/ws`;
    const rawUsers = Array.from({ length: CLIENTS - SDK_CLIENTS }, (_, i) => `storm-r${i}`);
    await inBatches(rawUsers, 200, async (u) => {
      const c = new RawClient(wsUrl, await mintToken(u, [TOPIC]), [TOPIC]);
      raw.push(c);
      await c.start();
    });
    await warmUp(sdk);
    expect(bed.lb.counts().get(victim.proc.port)).toBe(CLIENTS);
    expect(await metric(victim.proc.port, 'herald_connections')).toBe(CLIENTS);
    const connectMs = Date.now() - t0;
    bed.lb.setBackends(bed.livePorts());

    // 2. Steady publishing: every SDK client's personal channel, and the topic every client holds.
    const targets: Target[] = [];
    sdkUsers.forEach((user, i) => {
      targets.push({ user });
      if (i % 25 === 0) targets.push({ topic: TOPIC });
    });
    const pubs = new Publishers(bed, targets, 'storm', { perApi: 2, intervalMs: 25 });
    pubs.start();
    await sleep(1000);
    const before = new Map(survivors.map((g) => [g.id, memoryMb(g.proc.child.pid as number)]));
    const refusedBefore = await Promise.all(survivors.map((g) => metric(g.proc.port, 'herald_upgrades_total', 'result="503"')));
    const rss = new RssSampler(survivors.map((g) => g.proc.child.pid as number));

    // 3. The storm.
    bed.unroute(VICTIM);
    const at = Date.now();
    const net0 = tcpExt();
    const cpu0 = [...survivors.map((g) => cpuMs(g.proc.child.pid as number)), cpuMs(process.pid)];
    await victim.proc.kill();
    const everyoneBack = (): boolean => sdk.every((r) => r.connects.some((c) => c.at > at) && r.client.state === 'connected') && raw.every((c) => c.live && c.welcomes.some((w) => w.at > at));
    await waitFor(everyoneBack, RECONNECT_BOUND_MS + 20_000, 'every client back', 50).catch((err: unknown) => {
      const missing = [...sdk.filter((r) => !r.connects.some((c) => c.at > at)).map((r) => `${r.user} ${r.client.state}`), ...raw.filter((c) => !c.live).map((c) => `raw: ${c.attempts.length} attempts, refusals ${JSON.stringify([...c.refusals])}`)];
      console.log(`[resilience] storm: ${missing.length} clients not back: ${missing.slice(0, 10).join('; ')}`);
      throw err;
    });
    const allBackMs = Date.now() - at;
    const cpu1 = [...survivors.map((g) => cpuMs(g.proc.child.pid as number)), cpuMs(process.pid)];
    const net1 = tcpExt();
    const listenOverflows = (net1.get('ListenOverflows') ?? 0) - (net0.get('ListenOverflows') ?? 0);
    const synRetrans = (net1.get('TCPSynRetrans') ?? 0) - (net0.get('TCPSynRetrans') ?? 0);
    const stormCpuPct = cpu1.map((x, i) => Math.round(((x - (cpu0[i] as number)) / allBackMs) * 100));
    await sleep(1000);
    rss.stop();
    await pubs.stop();
    await pubs.finalRound();
    const t = await settle(sdk, pubs, 30_000);

    // 4. Figures.
    const delays = [
      ...sdk.map((r) => (r.connects.find((c) => c.at > at)?.at ?? Infinity) - at),
      ...raw.map((c) => (c.welcomes.find((w) => w.at > at)?.at ?? Infinity) - at),
    ].sort((a, b) => a - b);
    const refusedAfter = await Promise.all(survivors.map((g) => metric(g.proc.port, 'herald_upgrades_total', 'result="503"')));
    const refused503 = refusedAfter.reduce((n, x, i) => n + x - (refusedBefore[i] as number), 0);
    const rawRefusals = raw.reduce((n, c) => n + (c.refusals.get(503) ?? 0), 0);
    const sdkRefusals = sdk.reduce((n, r) => n + r.errors.filter((e) => e.status === 503).length, 0);
    const otherRefusals = [...new Set(raw.flatMap((c) => [...c.refusals.keys()]).filter((s) => s !== 503)), ...new Set(sdk.flatMap((r) => r.errors.map((e) => e.status)).filter((s) => s !== undefined && s !== 503))];
    const peaks = survivors.map((g) => {
      const pid = g.proc.child.pid as number;
      return { node: g.id, rssBeforeMb: Math.round(before.get(g.id)?.rss ?? 0), rssPeakSampledMb: Math.round(rss.peakMb.get(pid) ?? 0), rssHighWaterMb: Math.round(memoryMb(pid)?.hwm ?? 0) };
    });
    const perNode = await Promise.all(survivors.map(async (g) => [g.id, await metric(g.proc.port, 'herald_connections')] as const));
    const dropSeen = raw.map((c) => (c.drops.find((x) => x >= at) ?? Infinity) - at).sort((a, b) => a - b);
    const figures = {
      clients: CLIENTS, sdkClients: SDK_CLIENTS, survivorUpgradeRate: SURVIVOR_UPGRADE_RATE, connectMs,
      reconnectP50Ms: quantile(delays, 0.5), reconnectP99Ms: quantile(delays, 0.99), reconnectMaxMs: delays.at(-1), allBackMs, admissionFloorMs: ADMISSION_FLOOR_MS, boundMs: RECONNECT_BOUND_MS,
      refused503, refused503SeenByRaw: rawRefusals, refused503SeenBySdk: sdkRefusals,
      refusalsPerSdkClient: +(sdkRefusals / SDK_CLIENTS).toFixed(2), refusalsPerRawClient: +(rawRefusals / raw.length).toFixed(2),
      retryAfterStretched: raw.reduce((n, c) => n + c.retryAfterStretched, 0), killToDropP50Ms: quantile(dropSeen, 0.5),
      stormCpuPct: Object.fromEntries([...SURVIVORS, 'test'].map((k, i) => [k, stormCpuPct[i]])), listenOverflows, synRetrans,
      connectionsAfter: Object.fromEntries(perNode), rss: peaks, rssLimitMb: RSS_LIMIT_MB, rssSamples: rss.samples,
      published: t.published, delivered: t.delivered, lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder,
      unrecovered: sdk.reduce((n, r) => n + r.unrecovered.length, 0), publish503: pubs.stats.unavailable, testMs: Date.now() - t0,
    };
    console.log(`[resilience] reconnect storm: ${JSON.stringify(figures)}`);

    // 5. Assertions.
    expect(delays.length).toBe(CLIENTS);
    expect(delays.at(-1)).toBeLessThan(RECONNECT_BOUND_MS);
    expect(allBackMs).toBeGreaterThanOrEqual(ADMISSION_FLOOR_MS * 0.9); // admission paced the crowd
    expect(refused503).toBeGreaterThan(0); // admission control really refused part of the storm
    expect(rawRefusals + sdkRefusals).toBeGreaterThan(0);
    expect(otherRefusals).toEqual([]);
    for (const p of peaks) {
      expect(p.rssPeakSampledMb).toBeLessThan(RSS_LIMIT_MB);
      expect(p.rssHighWaterMb).toBeLessThan(RSS_LIMIT_MB);
    }
    expect(perNode.reduce((n, [, c]) => n + c, 0)).toBe(CLIENTS);
    expect(t.problems).toEqual([]);
    expect(t.lost).toBe(0);
    expect(t.duplicated).toBe(0);
    expect(t.outOfOrder).toBe(0);
    expect(pubs.stats.unexpected).toEqual([]);
    expect(sdk.flatMap((r) => r.unrecovered)).toEqual([]);
    expect(t.published).toBeGreaterThan(100);
  }, 150_000);
});
