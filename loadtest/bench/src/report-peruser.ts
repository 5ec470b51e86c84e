/** The per-user part of the bench report: tables, and the checks of the per-user targets. */
import { PER_USER_P99_MS, usPerMessage, type PerUserCfg, type PerUserResult } from './peruser.js';
import type { DeliveryResult, ProcUse } from './phases.js';

export interface Check { what: string; value: string; goal: string; ok: boolean | undefined }

const f = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
const x = (v: number | undefined, base: number | undefined): string => (v !== undefined && base !== undefined && base > 0 && Number.isFinite(v) ? `${(v / base).toFixed(2)}×` : 'n/a');
const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? a / b : undefined);
const atRate = (t: PerUserResult | undefined, rate: number): DeliveryResult | undefined => t?.rates.find((r) => r.rate === rate)?.d;
const ROLES = ['publish-api', 'gateway', 'nats-server'];

/** Per process: µs per publish (per message for the publish API and nats-server) and per delivery (gateway). */
function split(d: DeliveryResult | undefined): string {
  if (!d || d.cpuByRoleMs['gateway'] === undefined) return '';
  return ROLES.map((role) => role === 'gateway'
    ? `gateway ${f(((d.cpuByRoleMs[role] ?? NaN) * 1000) / Math.max(1, d.deliveries), 1)}/delivery`
    : `${role} ${f(usPerMessage(d, role), 1)}/msg`).join(', ');
}

export function renderPerUser(results: readonly PerUserResult[], cfg: PerUserCfg): string[] {
  const L: string[] = [];
  const c = results.find((t) => t.key === 'ceiling');
  L.push(`Per-user notifications: ${cfg.users} users × ${cfg.connsPerUser} connections, each message one \`POST\` to one random user (every connection of the user receives it), ${cfg.seconds} s per rate after a warm-up of ${cfg.warmMessages} messages; each target started fresh. Server CPU of every server process from /proc (kernel included); ratios to the ceiling of this run (the machine is shared: absolute figures move from run to run, ratios much less).`);
  L.push('');
  L.push('| target | rate/s | published/s | deliveries | lost | p50 / p99 ms (p99 vs ceiling) | server CPU µs/delivery (vs ceiling) | server CPU % of a core | per process µs |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const t of results) {
    if (t.rates.length === 0) { L.push(`| ${t.target} | ${t.error ?? 'n/a'} | | | | | | | |`); continue; }
    for (const { rate, d } of t.rates) {
      const cd = atRate(c, rate);
      L.push(`| ${t.target} | ${rate} | ${f(d.publishedPerS)} | ${d.deliveries}/${d.expected} | ${d.lost} | ${f(d.latencyMs.p50)} / ${f(d.latencyMs.p99)} (${x(d.latencyMs.p99, cd?.latencyMs.p99)}) | ${f(d.serverCpuUsPerDelivery, 1)} (${x(d.serverCpuUsPerDelivery, cd?.serverCpuUsPerDelivery)}) | ${f(d.serverCpuPct)}% | ${split(d)} |`);
    }
  }
  L.push('');
  L.push('Where it goes, per message at the fixed rates: each process\'s CPU in user space and in the kernel (system calls and the loopback network stack they run), and its context switches (every thread): each hop of a message between processes or threads is a wake-up, paid in the kernel and in caches that start cold, and at low rates nothing shares it.');
  L.push('');
  L.push('| target | rate/s | per process: user + kernel µs per message, context switches per message | all processes: user + kernel µs, switches |');
  L.push('|---|---|---|---|');
  for (const t of results) {
    for (const { rate, d } of t.rates) {
      const per = (u: ProcUse): string => `${f((u.userMs * 1000) / Math.max(1, d.messages))} + ${f((u.systemMs * 1000) / Math.max(1, d.messages))}, ${f(u.switches / Math.max(1, d.messages), 2)}`;
      const roles = Object.entries(d.procByRole);
      const sum = roles.reduce<ProcUse>((a, [, u]) => ({ userMs: a.userMs + u.userMs, systemMs: a.systemMs + u.systemMs, switches: a.switches + u.switches }), { userMs: 0, systemMs: 0, switches: 0 });
      L.push(`| ${t.target} | ${rate} | ${roles.map(([role, u]) => `${role} ${per(u)}`).join('; ')} | ${per(sum)} |`);
    }
  }
  const caps = results.filter((t) => t.capacity);
  if (caps.length > 0) {
    L.push('');
    L.push(`Sustained per-user capacity: the highest rate of messages to random users held for ${cfg.sustainS} s with no loss, p99 under ${PER_USER_P99_MS} ms and the publisher reaching 95% of the rate (probes of ${cfg.probeS} s grow ×1.5 from an estimate, bisect twice, then confirm; c = confirm). When the publisher or load generators sit near 100% of a core the figure is the load side's limit, not the target's.`);
    L.push('');
    L.push('| target | capacity messages/s (vs ceiling) | confirm: lost, p50 / p99 ms | confirm: server CPU % of a core | publisher / loadgen max % of a core | per process µs | probes |');
    L.push('|---|---|---|---|---|---|---|');
    for (const t of caps) {
      const k = t.capacity!;
      const cf = k.confirm;
      const probes = k.probes.map((p) => `${p.confirm ? 'c' : ''}${p.rate}${p.pass ? '✓' : '✗'}`).join(' ');
      const last = k.probes[k.probes.length - 1];
      const notHeld = last?.confirm ? `not held (last ${last.rate}/s: ${last.why})` : 'no probe held';
      L.push(`| ${t.target} | ${k.messagesPerS === undefined ? notHeld : `${f(k.messagesPerS)} (${x(k.messagesPerS, c?.capacity?.messagesPerS)})`} | ${cf ? `${cf.lost}, ${f(cf.latencyMs.p50)} / ${f(cf.latencyMs.p99)}` : 'n/a'} | ${f(cf?.serverCpuPct)}% | ${f(cf?.publisherCpuPct)}% / ${f(cf?.loadgenCpuPctMax)}% | ${split(cf)} | ${probes} |`);
    }
  }
  const batches = results.filter((t) => t.batch);
  if (batches.length > 0) {
    L.push('');
    L.push(`Batch: \`POST /v1/publish/batch\` with ${batches[0]!.batch!.size} user messages per request, ${batches[0]!.batch!.rate} messages/s.`);
    L.push('');
    L.push('| target | published messages/s | deliveries | lost | p50 / p99 ms | server CPU µs/delivery | per process µs |');
    L.push('|---|---|---|---|---|---|---|');
    for (const t of batches) {
      const d = t.batch!.d;
      L.push(`| ${t.target} | ${f(d.publishedPerS)} | ${d.deliveries}/${d.expected} | ${d.lost} | ${f(d.latencyMs.p50)} / ${f(d.latencyMs.p99)} | ${f(d.serverCpuUsPerDelivery, 1)} | ${split(d) || `server ${f(usPerMessage(d, 'server'), 1)}/msg`} |`);
    }
  }
  return L;
}

export function perUserChecks(results: readonly PerUserResult[], cfg: PerUserCfg): Check[] {
  const by = (k: string): PerUserResult | undefined => results.find((t) => t.key === k);
  const c = by('ceiling'), h = by('herald-dev'), n = by('herald-nats');
  const out: Check[] = [];
  const add = (what: string, v: number | undefined, goal: string, ok: (v: number) => boolean, unit = '×'): void =>
    void out.push({ what, value: v === undefined ? 'n/a' : `${v.toFixed(2)}${unit}`, goal, ok: v === undefined ? undefined : ok(v) });
  const low = Math.min(...cfg.rates), high = Math.max(...cfg.rates);
  const cpu = (t: PerUserResult | undefined, rate: number): number | undefined => atRate(t, rate)?.serverCpuUsPerDelivery;
  add(`per-user CPU/delivery at ${high}/s, Herald on NATS (3 processes) vs ceiling`, ratio(cpu(n, high), cpu(c, high)), '≤ 2.5×', (v) => v <= 2.5);
  add(`per-user CPU/delivery at ${low}/s, Herald on NATS (3 processes) vs ceiling`, ratio(cpu(n, low), cpu(c, low)), '≤ 3×', (v) => v <= 3);
  add(`per-user p99 at ${high}/s, Herald on NATS vs ceiling`, ratio(atRate(n, high)?.latencyMs.p99, atRate(c, high)?.latencyMs.p99), '≤ 2×', (v) => v <= 2);
  const nd = atRate(n, high);
  add(`publish API CPU per single publish at ${high}/s`, nd ? usPerMessage(nd, 'publish-api') : undefined, '≤ 40 µs', (v) => v <= 40, ' µs');
  const nb = n?.batch?.d;
  add(`publish API CPU per message in batches of ${n?.batch?.size ?? cfg.batchSize}`, nb ? usPerMessage(nb, 'publish-api') : undefined, '≤ 8 µs', (v) => v <= 8, ' µs');
  add(`gateway CPU per delivery on the personal channel at ${high}/s`, nd?.cpuByRoleMs['gateway'] === undefined ? undefined : (nd.cpuByRoleMs['gateway'] * 1000) / Math.max(1, nd.deliveries), '≤ 15 µs', (v) => v <= 15, ' µs');
  add(`per-user CPU/delivery at ${high}/s, Herald dev vs ceiling`, ratio(cpu(h, high), cpu(c, high)), '≤ 1.25×', (v) => v <= 1.25);
  add(`per-user CPU/delivery at ${low}/s, Herald dev vs ceiling`, ratio(cpu(h, low), cpu(c, low)), '≤ 1.4×', (v) => v <= 1.4);
  add('sustained per-user capacity, Herald on NATS vs ceiling', ratio(n?.capacity?.messagesPerS, c?.capacity?.messagesPerS), '≥ 0.5×', (v) => v >= 0.5);
  add('sustained per-user capacity, Herald dev vs ceiling', ratio(h?.capacity?.messagesPerS, c?.capacity?.messagesPerS), '(informative)', () => true);
  const lost = [h, n].reduce((a, t) => a + (t?.rates.reduce((s, r) => s + r.d.lost, 0) ?? 0) + (t?.batch?.d.lost ?? 0), 0);
  out.push({ what: 'per-user messages lost by Herald (fixed rates and batch)', value: String(lost), goal: '0', ok: lost === 0 });
  return out;
}
