// Cost per delivered message of the delivery-latency observation (TurnClock + histogram) against prom-client's Histogram.observe,
// 100 messages per event-loop turn. After a build: node services/gateway/scripts/bench-latency.mjs
import { Histogram, createMetricsRegistry } from '@herald/telemetry';
import { createGatewayMetrics } from '../dist/metrics.js';
import { TurnClock } from '../dist/hub/turn-clock.js';
const m = createGatewayMetrics(createMetricsRegistry());
const prom = new Histogram({ name: 'x_seconds', help: 'x', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [createMetricsRegistry()] });
const clock = new TurnClock();
const PER_TURN = 100, TURNS = 2000;
const ts = Date.now() - 3;
let sink = 0;
async function round(kind) {
  let total = 0n;
  for (let t = 0; t < TURNS; t++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < PER_TURN; i++) {
      if (kind === 'herald') m.deliveryLatency.observe(Math.max(0, clock.now() - ts) / 1000);
      else if (kind === 'prom') prom.observe(Math.max(0, clock.now() - ts) / 1000);
      else sink += i;
    }
    total += process.hrtime.bigint() - t0;
    await new Promise((r) => setImmediate(r));
  }
  return Number(total) / (PER_TURN * TURNS);
}
const res = { herald: [], prom: [], none: [] };
for (let r = 0; r < 2; r++) for (const k of Object.keys(res)) await round(k);
for (let r = 0; r < 7; r++) for (const k of Object.keys(res)) res[k].push(await round(k));
for (const [k, a] of Object.entries(res)) { const s = [...a].sort((x, y) => x - y); console.log(`${k}: min ${s[0].toFixed(1)} ns, median ${s[3].toFixed(1)} ns per message`); }
