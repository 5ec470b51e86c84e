// Push timer cost and latency (docs/push.md#figures): one nats-server, one publish API process
// (built: `turbo build`), the stand-in push service of @herald/testkit (VAPID verified, payload
// decrypted). N inbox messages to U users with one subscription each, HERALD_PUSH_AFTER_MS=AFTER;
// reports the latency from each message's due time to its arrival at the push service, and the
// CPU the publish API process and nats-server spent per push while the pushes went out (the
// publishes all finish before the first message is due).
// Usage: node services/publish-api/bench/push-timer.mjs [N=400] [U=40] [AFTER=4000] [GAP=0 ms between publishes]
// (with GAP > 0 the pushes overlap the publishes: the CPU figure then includes the publishes too)
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signToken } from '@herald/auth';
import { generateVapidKeys } from '@herald/push';
import { spawnService, startNatsServer, startPushService, waitFor } from '@herald/testkit';

const [N, U, AFTER, GAP] = [Number(process.argv[2] ?? 400), Number(process.argv[3] ?? 40), Number(process.argv[4] ?? 4000), Number(process.argv[5] ?? 0)];
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const KEY = 'bench-api-key-1234567890abcdef';
const SECRET = 'bench-jwt-secret-1234567890';
const vapid = generateVapidKeys();
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const TICK_US = 10_000; // USER_HZ 100

const nats = await startNatsServer();
const push = await startPushService();
const api = await spawnService({
  // BENCH_PROF=<dir>: a V8 CPU profile of the publish API (written at its graceful exit).
  args: process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`, MAIN] : [MAIN],
  env: {
    HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: KEY, HERALD_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', HERALD_NATS_URL: nats.url, HERALD_JWT_SECRET: SECRET,
    HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey, HERALD_VAPID_SUBJECT: 'mailto:ops@example.com',
    HERALD_PUSH_AFTER_MS: String(AFTER), HERALD_PUSH_ALLOW_ORIGINS: push.origin, HERALD_PUSH_RATE_PER_MIN: '0',
  },
});
const base = `http://127.0.0.1:${api.port}`;
try {
  await api.waitLog((r) => r.msg === 'push timer consuming', 20_000);
  const natsPid = Number(/pid=(\d+)/.exec(execSync(`ss -ltnpH 'sport = :${nats.port}'`).toString())?.[1]);
  for (let u = 0; u < U; u++) {
    const sub = push.createSubscription({ applicationServerKey: vapid.publicKey });
    const token = await signToken({ secret: SECRET, sub: `b${u}`, ttlSec: 600 });
    const r = await fetch(`${base}/v1/push-subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ endpoint: sub.endpoint, keys: sub.keys }) });
    if (r.status !== 201) throw new Error(`subscribe ${r.status}`);
  }
  const due = new Map();
  // Arrival times: the push service's list is polled every 2 ms from before the first publish.
  const arrivals = new Map();
  let seen = 0;
  const rec = () => { for (; seen < push.received.length; seen++) { const id = JSON.parse(push.received[seen].text).id; if (!arrivals.has(id)) arrivals.set(id, Date.now()); } };
  const poll = setInterval(rec, 2);
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const at = Date.now();
    const r = await fetch(`${base}/v1/publish`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ user: `b${i % U}`, inbox: true, data: { title: `message ${i}`, body: 'x'.repeat(120) } }) });
    const id = (await r.json()).results[0].id;
    due.set(id, at + AFTER);
    if (GAP > 0) await new Promise((r) => setTimeout(r, GAP));
  }
  const published = Date.now() - t0;
  if (published >= AFTER && GAP === 0) console.log(`warning: publishing took ${published} ms, longer than AFTER`);
  const [a0, n0] = [ticks(api.child.pid), ticks(natsPid)];
  await waitFor(() => { rec(); return arrivals.size >= N; }, 120_000, 'every push', 2);
  clearInterval(poll);
  const [a1, n1] = [ticks(api.child.pid), ticks(natsPid)];
  const lat = [...arrivals].map(([id, t]) => t - due.get(id)).sort((x, y) => x - y);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  const dup = push.received.length - N;
  console.log(JSON.stringify({
    messages: N, users: U, afterMs: AFTER, pushes: push.received.length, duplicates: dup,
    latencyAfterDueMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: lat.at(-1), min: lat[0] },
    cpuPerPushUs: { publishApi: Math.round(((a1 - a0) * TICK_US) / N), natsServer: Math.round(((n1 - n0) * TICK_US) / N) },
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  }));
  if (process.env.BENCH_DUMP) for (const r of api.logs()) if (/push|published/.test(String(r.msg))) console.log(r.time, r.msg, r.msg_id ?? '', r.result ?? '');
} finally {
  if (process.env.BENCH_PROF) {
    api.signal('SIGTERM');
    await api.exited;
  }
  await api.kill();
  await push.close();
  await nats.stop();
}
