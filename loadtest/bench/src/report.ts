/** Renders a bench run as a markdown report and a self-contained HTML page with inline SVG bar charts. */
import { CAPACITY_P99_MS, type CapacityResult } from './capacity.js';
import type { CompressionResult } from './compression.js';
import type { IdleResult } from './idle.js';
import type { InterestResult } from './interest.js';
import type { ConnectResult, DeliveryResult } from './phases.js';
import type { PerUserCfg, PerUserResult } from './peruser.js';
import { perUserChecks, renderPerUser, type Check } from './report-peruser.js';
import { PUBLISH_MAX_IN_FLIGHT } from './workers.js';

/** What one target measured in the classic scenarios (the report's input, filled by main.ts). */
export interface TargetResult {
  key: string; target: string; connect?: ConnectResult; fanout?: DeliveryResult; perUser?: DeliveryResult;
  bigFanout?: DeliveryResult & { subscribers: number };
  capacity?: CapacityResult;
  /** Fan-out at half the ceiling's sustained capacity. */
  halfLoad?: DeliveryResult & { rate: number };
  error?: string;
}

export interface Report {
  at: string;
  command: string;
  cfg: Record<string, number>;
  durationS: number;
  /** 1-minute load average at the start and the end of the run (other work on the machine). */
  loadAvg: [number, number];
  /** The version of the nats-server binary the NATS targets ran (NATS_SERVER_BIN). */
  natsServer: string;
  /** Which scenario groups ran (BENCH_SCENARIOS). */
  scenarios: string[];
  perUserCfg: PerUserCfg;
  perUser: PerUserResult[];
  results: TargetResult[];
  idle: IdleResult[];
  interest: InterestResult | undefined;
  compression: CompressionResult[];
}

const f = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(d));
const x = (v: number | undefined, base: number | undefined): string => (v !== undefined && base !== undefined && base > 0 && Number.isFinite(v) ? `${(v / base).toFixed(2)}×` : 'n/a');
const lat = (d: DeliveryResult | undefined): string => (d ? `${f(d.latencyMs.p50)} / ${f(d.latencyMs.p99)} / ${f(d.latencyMs.p999)}` : 'n/a');

function checks(r: Report): Check[] {
  if (r.results.length === 0) return idleChecks(r);
  const by = (k: string): TargetResult | undefined => r.results.find((t) => t.key === k);
  const c = by('ceiling'), h = by('herald-dev'), n = by('herald-nats'), bh = by('byhand'), sio = by('socketio');
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  const cpu = (t: TargetResult | undefined): number | undefined => t?.fanout?.serverCpuUsPerDelivery;
  const out: Check[] = [];
  const add = (what: string, v: number | undefined, goal: string, ok: (v: number) => boolean): void =>
    void out.push({ what, value: v === undefined ? 'n/a' : `${v.toFixed(2)}×`, goal, ok: v === undefined ? undefined : ok(v) });
  add('fan-out CPU/delivery, Herald dev vs ceiling', ratio(cpu(h), cpu(c)), '≤ 1.25×', (v) => v <= 1.25);
  add('fan-out CPU/delivery, Herald on NATS vs ceiling', ratio(cpu(n), cpu(c)), '≤ 1.5×', (v) => v <= 1.5);
  add('fan-out CPU/delivery, by hand vs Herald dev', ratio(cpu(bh), cpu(h)), '≥ 3×', (v) => v >= 3);
  add('fan-out CPU/delivery, by hand vs Herald on NATS', ratio(cpu(bh), cpu(n)), '≥ 3×', (v) => v >= 3);
  add('fan-out CPU/delivery, socket.io vs Herald dev', ratio(cpu(sio), cpu(h)), '≥ 3×', (v) => v >= 3);
  add('per-user deliveries per CPU-s, Herald dev vs ceiling', ratio(h?.perUser?.deliveriesPerCpuS, c?.perUser?.deliveriesPerCpuS), '≥ 0.7×', (v) => v >= 0.7);
  add('per-user deliveries per CPU-s, Herald on NATS vs ceiling', ratio(n?.perUser?.deliveriesPerCpuS, c?.perUser?.deliveriesPerCpuS), '≥ 0.7× (informative: 3 processes)', (v) => v >= 0.7);
  add('connect rate, Herald dev vs ceiling', ratio(h?.connect?.connectPerS, c?.connect?.connectPerS), '≥ 0.7×', (v) => v >= 0.7);
  add('memory per connection, Herald dev vs ceiling', ratio(h?.connect?.rssPerConnBytes, c?.connect?.rssPerConnBytes), '≤ 1.5×', (v) => v <= 1.5);
  const cap = (t: TargetResult | undefined): number | undefined => t?.capacity?.messagesPerS;
  add('sustained fan-out capacity, Herald dev vs ceiling', ratio(cap(h), cap(c)), '≥ 0.8×', (v) => v >= 0.8);
  add('sustained fan-out capacity, Herald on NATS vs ceiling', ratio(cap(n), cap(c)), '≥ 0.8× (informative: 3 processes)', (v) => v >= 0.8);
  const half = (t: TargetResult | undefined): number | undefined => t?.halfLoad?.latencyMs.p99;
  add('p99 at half the ceiling\'s capacity, Herald dev vs ceiling', ratio(half(h), half(c)), '≤ 1.5×', (v) => v <= 1.5);
  add('p99 at half the ceiling\'s capacity, Herald on NATS vs ceiling', ratio(half(n), half(c)), '≤ 1.5×', (v) => v <= 1.5);
  out.push(...idleChecks(r));
  const worst = r.interest ? Math.max(...r.interest.nodes.map((nd) => nd.ratio)) : undefined;
  add('NATS interest: messages in per useful message (worst node)', worst, '≤ 1.1×', (v) => v <= 1.1);
  // capacity probes are meant to overload, so only the runs below capacity count here
  const heraldLoss = [h, n].reduce((a, t) => a + (t?.fanout?.lost ?? 0) + (t?.perUser?.lost ?? 0) + (t?.bigFanout?.lost ?? 0) + (t?.halfLoad?.lost ?? 0), 0) + (r.interest?.lost ?? 0);
  out.push({ what: 'messages lost by Herald (all scenarios but capacity probes)', value: String(heraldLoss), goal: '0', ok: heraldLoss === 0 });
  return out;
}

/** Memory per idle connection against the ceiling (the per-user issue's goals: memory mode ≤ 1.3×, NATS gateway ≤ 1.5×). */
function idleChecks(r: Report): Check[] {
  if (r.idle.length === 0) return [];
  const idle = (k: string): number | undefined => r.idle.find((i) => i.key === k)?.bytesPerConn;
  const ceil = idle('ceiling');
  const out: Check[] = [];
  const add = (what: string, v: number | undefined, limit: number): void => {
    const x = v !== undefined && ceil !== undefined && ceil > 0 ? v / ceil : undefined;
    out.push({ what, value: x === undefined ? 'n/a' : `${x.toFixed(2)}×`, goal: `≤ ${limit}×`, ok: x === undefined ? undefined : x <= limit });
  };
  add(`memory per idle connection at ~${r.cfg['idleConns']}, Herald dev vs ceiling`, idle('herald-dev'), 1.3);
  add(`memory per idle connection at ~${r.cfg['idleConns']}, Herald on NATS gateway vs ceiling`, idle('herald-nats'), 1.5);
  return out;
}

export function renderMarkdown(r: Report): string {
  const c = r.results.find((t) => t.key === 'ceiling');
  const L: string[] = [];
  L.push(`Run ${r.at}, \`${r.command}\` (scenarios: ${r.scenarios.join(', ')}), ${f(r.durationS)} s on a 2-core machine, nats-server ${r.natsServer} (other work may run meanwhile: compare ratios within this run; 1-minute load average ${f(r.loadAvg[0], 1)} at the start, ${f(r.loadAvg[1], 1)} at the end).`);
  if (r.perUser.length > 0) {
    L.push('');
    L.push(...renderPerUser(r.perUser, r.perUserCfg));
  }
  if (r.results.length > 0) renderClassic(r, c, L);
  else renderIdle(r, L);
  L.push('');
  L.push('Issue targets (ratios from this run):');
  L.push('');
  L.push('| check | measured | goal | met |');
  L.push('|---|---|---|---|');
  for (const ck of [...(r.perUser.length > 0 ? perUserChecks(r.perUser, r.perUserCfg) : []), ...checks(r)]) L.push(`| ${ck.what} | ${ck.value} | ${ck.goal} | ${ck.ok === undefined ? 'n/a' : ck.ok ? 'yes' : 'no'} |`);
  return L.join('\n') + '\n';
}

/** The connect, fan-out, capacity, idle memory, interest and compression tables. */
function renderClassic(r: Report, c: TargetResult | undefined, L: string[]): void {
  const cfg = r.cfg;
  L.push('');
  L.push(`Sizes: ${cfg['conns']} authenticated connections (${cfg['connsPerUser']} per user), each subscribed to one topic; fan-out ${cfg['messages']} messages at ${cfg['rate']}/s; per-user ${cfg['userMessages']} messages at ${cfg['userRate']}/s to random users; ${cfg['loadgens']} load-generator processes. Payload: a ~250-byte JSON order notification. Messages come from a separate publisher process, open-loop (each sent at its scheduled time, up to ${PUBLISH_MAX_IN_FLIGHT} requests in flight on keep-alive connections); published/s is the rate it achieved, and its CPU is not server CPU.`);
  L.push('');
  L.push(`| target | connects/s (vs ceiling) | handshake p50 / p99 ms | RSS KiB/conn (vs ceiling) | fan-out published/s (target ${cfg['rate']}) | fan-out deliveries/s | lost | fan-out latency p50 / p99 / p99.9 ms | server CPU µs/delivery (vs ceiling) | per-user deliveries per CPU-s (vs ceiling) | per-user p99 ms | loadgen max % of a core |`);
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of r.results) {
    if (t.error !== undefined && t.connect === undefined) { L.push(`| ${t.target} | ${t.error} ||||||||||| `); continue; }
    const lost = (t.fanout?.lost ?? 0) + (t.perUser?.lost ?? 0);
    const gen = Math.max(t.fanout?.loadgenCpuPctMax ?? 0, t.perUser?.loadgenCpuPctMax ?? 0);
    L.push(`| ${t.target}${t.error ? ` (error: ${t.error})` : ''} | ${f(t.connect?.connectPerS)} (${x(t.connect?.connectPerS, c?.connect?.connectPerS)}) | ${f(t.connect?.handshakeMs.p50, 1)} / ${f(t.connect?.handshakeMs.p99, 1)} | ${f((t.connect?.rssPerConnBytes ?? NaN) / 1024, 1)} (${x(t.connect?.rssPerConnBytes, c?.connect?.rssPerConnBytes)}) | ${f(t.fanout?.publishedPerS)} | ${f(t.fanout?.deliveriesPerS)} | ${lost} | ${lat(t.fanout)} | ${f(t.fanout?.serverCpuUsPerDelivery, 2)} (${x(t.fanout?.serverCpuUsPerDelivery, c?.fanout?.serverCpuUsPerDelivery)}) | ${f(t.perUser?.deliveriesPerCpuS)} (${x(t.perUser?.deliveriesPerCpuS, c?.perUser?.deliveriesPerCpuS)}) | ${f(t.perUser?.latencyMs.p99)} | ${f(gen)}% |`);
  }
  const big = r.results.filter((t) => t.bigFanout);
  if (big.length > 0) {
    L.push('');
    L.push(`Big fan-out: one topic, ${big[0]?.bigFanout?.subscribers} subscribers, ${cfg['bigMessages']} messages at ${cfg['bigRate']}/s.`);
    L.push('');
    L.push('| target | deliveries | lost | latency p50 / p99 / p99.9 ms | server CPU µs/delivery (vs ceiling) | loadgen max % of a core |');
    L.push('|---|---|---|---|---|---|');
    for (const t of big) {
      const b = t.bigFanout!;
      L.push(`| ${t.target} | ${b.deliveries}/${b.expected} | ${b.lost} | ${lat(b)} | ${f(b.serverCpuUsPerDelivery, 2)} (${x(b.serverCpuUsPerDelivery, c?.bigFanout?.serverCpuUsPerDelivery)}) | ${f(b.loadgenCpuPctMax)}% |`);
    }
  }
  const capRows = r.results.filter((t) => t.capacity || t.halfLoad);
  if (capRows.length > 0) {
    const subs = capRows.find((t) => t.capacity)?.capacity?.subscribers ?? cfg['conns'];
    L.push('');
    L.push(`Sustained capacity: the highest rate of messages to one topic with ${subs} subscribers that a target holds for ${cfg['sustainS']} s with no loss and p99 under ${CAPACITY_P99_MS} ms (and the publisher reaching 95% of the rate). Probes of ${cfg['probeS']} s grow ×1.5 from an estimate until one fails, bisect twice, then a ${cfg['sustainS']} s run confirms (15% lower after a failed confirm). ✓/✗ list the probes in order (c = confirm).`);
    L.push('');
    L.push('| target | capacity messages/s (vs ceiling) | deliveries/s | confirm: lost, p50 / p99 / p99.9 ms | confirm: server CPU % of a core | confirm: publisher / loadgen max % of a core | probes |');
    L.push('|---|---|---|---|---|---|---|');
    for (const t of capRows) {
      const k = t.capacity;
      if (!k) { L.push(`| ${t.target} | skipped (budget) | | | | | |`); continue; }
      const cf = k.confirm;
      const probes = k.probes.map((p) => `${p.confirm ? 'c' : ''}${p.rate}${p.pass ? '✓' : '✗'}`).join(' ');
      const last = k.probes[k.probes.length - 1];
      const notHeld = last?.confirm ? `not held (last confirm ${last.rate}/s: ${last.why})` : 'no probe held';
      L.push(`| ${t.target} | ${k.messagesPerS === undefined ? notHeld : `${f(k.messagesPerS)} (${x(k.messagesPerS, c?.capacity?.messagesPerS)})`} | ${f(k.deliveriesPerS)} | ${cf ? `${cf.lost}, ${lat(cf)}` : 'n/a'} | ${f(cf?.serverCpuPct)}% | ${f(cf?.publisherCpuPct)}% / ${f(cf?.loadgenCpuPctMax)}% | ${probes} |`);
    }
    const halves = capRows.filter((t) => t.halfLoad);
    if (halves.length > 0) {
      L.push('');
      L.push(`Latency at half the ceiling's sustained capacity (${halves[0]?.halfLoad?.rate} messages/s to the same ${subs} subscribers, ${cfg['halfS']} s).`);
      L.push('');
      L.push('| target | published/s | deliveries | lost | latency p50 / p99 / p99.9 ms | p99 vs ceiling | server CPU % of a core |');
      L.push('|---|---|---|---|---|---|---|');
      for (const t of halves) {
        const hl = t.halfLoad!;
        L.push(`| ${t.target} | ${f(hl.publishedPerS)} | ${hl.deliveries}/${hl.expected} | ${hl.lost} | ${lat(hl)} | ${x(hl.latencyMs.p99, c?.halfLoad?.latencyMs.p99)} | ${f(hl.serverCpuPct)}% |`);
      }
    }
  }
  renderIdle(r, L);
  if (r.interest) {
    L.push('');
    L.push(`Herald on 2 NATS gateways: ${r.interest.connections} connections (each user's connections on one node), messages to random users; per node, bus messages received (\`herald_messages_in_total\`) per message one of its users needed (\`herald_deliveries_total\` / ${cfg['connsPerUser']}).`);
    L.push('');
    L.push('| node | messages in | deliveries | messages published for its users | messages in per useful message |');
    L.push('|---|---|---|---|---|');
    for (const nd of r.interest.nodes) L.push(`| gw-${nd.node} | ${nd.messagesIn} | ${nd.deliveries} | ${nd.messagesForNode} | ${nd.ratio.toFixed(3)}× |`);
  }
  if (r.compression.length > 0) {
    L.push('');
    L.push(`permessage-deflate: ${cfg['compressConns']} connections whose client (ws) offers permessage-deflate, ${cfg['compressMessages']} messages at ${cfg['rate']}/s to one topic. Wire bytes = TCP bytes the clients read per delivery (frame headers included).`);
    L.push('');
    L.push('| target | mode | negotiated | wire bytes/delivery | server CPU µs/delivery (vs off) | RSS KiB/conn | lost |');
    L.push('|---|---|---|---|---|---|---|');
    for (const cr of r.compression) {
      const off = r.compression.find((o) => o.target === cr.target && o.mode === 'off');
      L.push(`| ${cr.target} | ${cr.mode} | ${cr.extensions} | ${f(cr.fanout.wireBytesPerDelivery, 1)} (${x(cr.fanout.wireBytesPerDelivery, off?.fanout.wireBytesPerDelivery)}) | ${f(cr.fanout.serverCpuUsPerDelivery, 2)} (${x(cr.fanout.serverCpuUsPerDelivery, off?.fanout.serverCpuUsPerDelivery)}) | ${f(cr.rssPerConnBytes / 1024, 1)} | ${cr.fanout.lost} |`);
    }
  }
}

function bars(title: string, unit: string, rows: { label: string; value: number | undefined }[], lowerIsBetter: boolean): string {
  const valid = rows.filter((r) => r.value !== undefined && Number.isFinite(r.value));
  if (valid.length === 0) return '';
  const max = Math.max(...valid.map((r) => r.value as number));
  const h = 26, lw = 330, bw = 420;
  const items = valid.map((r, i) => {
    const w = max > 0 ? ((r.value as number) / max) * bw : 0;
    const y = i * h + 28;
    const color = r.label.startsWith('Herald') ? '#2f6fdf' : r.label.startsWith('ceiling') ? '#777' : '#e08a2c';
    return `<text x="0" y="${y + 15}" font-size="13">${esc(r.label)}</text><rect x="${lw}" y="${y}" width="${w.toFixed(1)}" height="${h - 6}" fill="${color}"/><text x="${lw + w + 6}" y="${y + 15}" font-size="12">${(r.value as number).toFixed(r.value as number < 100 ? 2 : 0)} ${unit}</text>`;
  });
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${lw + bw + 160}" height="${valid.length * h + 36}"><text x="0" y="16" font-size="14" font-weight="bold">${esc(title)} (${lowerIsBetter ? 'lower' : 'higher'} is better)</text>${items.join('')}</svg></figure>`;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function mdTableToHtml(md: string): string {
  const out: string[] = [];
  let inTable = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) {
      if (/^\|[-|]+\|$/.test(line)) continue;
      const cells = line.slice(1, -1).split('|').map((s) => esc(s.trim()));
      if (!inTable) { out.push('<table><tr>' + cells.map((c) => `<th>${c}</th>`).join('') + '</tr>'); inTable = true; }
      else out.push('<tr>' + cells.map((c) => `<td>${c}</td>`).join('') + '</tr>');
    } else {
      if (inTable) { out.push('</table>'); inTable = false; }
      if (line.trim()) out.push(`<p>${esc(line).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`);
    }
  }
  if (inTable) out.push('</table>');
  return out.join('\n');
}

export function renderHtml(r: Report, md: string): string {
  const t = r.results;
  const top = Math.max(...r.perUserCfg.rates);
  const charts = [
    bars(`Per-user notifications at ${top}/s: server CPU per delivery`, 'µs', r.perUser.map((p) => ({ label: p.target, value: p.rates.find((q) => q.rate === top)?.d.serverCpuUsPerDelivery })), true),
    bars('Sustained per-user capacity', 'msg/s', r.perUser.map((p) => ({ label: p.target, value: p.capacity?.messagesPerS })), false),
    bars('Server CPU per delivery, fan-out', 'µs', t.map((x) => ({ label: x.target, value: x.fanout?.serverCpuUsPerDelivery })), true),
    bars('Per-user deliveries per server CPU-second', '/s', t.map((x) => ({ label: x.target, value: x.perUser?.deliveriesPerCpuS })), false),
    bars('Connect rate', '/s', t.map((x) => ({ label: x.target, value: x.connect?.connectPerS })), false),
    bars('Memory per connection', 'KiB', t.map((x) => ({ label: x.target, value: x.connect ? x.connect.rssPerConnBytes / 1024 : undefined })), true),
    bars('Fan-out latency p99', 'ms', t.map((x) => ({ label: x.target, value: x.fanout?.latencyMs.p99 })), true),
    bars('Sustained fan-out capacity', 'msg/s', t.map((x) => ({ label: x.target, value: x.capacity?.messagesPerS })), false),
    bars("Latency p99 at half the ceiling's capacity", 'ms', t.map((x) => ({ label: x.target, value: x.halfLoad?.latencyMs.p99 })), true),
    bars(`Memory per idle connection (${r.cfg['idleConns']} connections)`, 'KiB', r.idle.map((i) => ({ label: i.target, value: i.bytesPerConn / 1024 })), true),
    bars('permessage-deflate: wire bytes per delivery', 'B', r.compression.map((c) => ({ label: `${c.target} ${c.mode}`, value: c.fanout.wireBytesPerDelivery })), true),
    bars('permessage-deflate: server CPU per delivery', 'µs', r.compression.map((c) => ({ label: `${c.target} ${c.mode}`, value: c.fanout.serverCpuUsPerDelivery })), true),
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>Herald bench ${esc(r.at)}</title><style>body{font:14px system-ui,sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f3f3f3}figure{margin:16px 0}</style></head><body><h1>Herald bench</h1>${charts.join('\n')}<h2>Figures</h2>${mdTableToHtml(md)}</body></html>\n`;
}

/** The memory per idle connection table. */
function renderIdle(r: Report, L: string[]): void {
  if (r.idle.length === 0) return;
  const ci = r.idle.find((i) => i.key === 'ceiling');
  L.push('');
  L.push(`Memory per idle connection: ${r.cfg['idleConns']} connections (not 20,000: one process may hold at most 20,000 descriptors here, \`ulimit -n\`, and the hard limit cannot be raised), one user each, authenticated with an HS256 token and subscribed to one topic (plus the personal channel: implicit in Herald, \`user:<sub>\` in the ceiling); opened in batches of 2500, then idle; RSS growth of the process holding the sockets (the gateway for Herald on NATS) once it settles, divided by the connections.`);
  L.push('');
  L.push('| target | connections (failed) | RSS before → after MiB | KiB/conn (vs ceiling) | connect s | load generators |');
  L.push('|---|---|---|---|---|---|');
  for (const i of r.idle) L.push(`| ${i.target} | ${i.connections} (${i.failed}) | ${f(i.rssBeforeBytes / 2 ** 20)} → ${f(i.rssAfterBytes / 2 ** 20)} | ${f(i.bytesPerConn / 1024, 1)} (${x(i.bytesPerConn, ci?.bytesPerConn)}) | ${f(i.connectS)} | ${i.loadgens} |`);
}
