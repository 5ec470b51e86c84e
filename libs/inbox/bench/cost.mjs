// Cost per inbox message on JetStream: CPU of the appending process and of nats-server per
// append, per receipt and per message read at connect, and stored bytes per message (stream info).
// Usage: npx tsc -p libs/inbox/tsconfig.build.json && node libs/inbox/bench/cost.mjs [messages] [data bytes]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { eventNames, NatsEventPublisher } from '@herald/events';
import { NatsInboxStore } from '../dist/index.js';

const N = Number(process.argv[2] ?? 2000);
const DATA_BYTES = Number(process.argv[3] ?? 200);
const USERS = 100;
const BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'inbox-bench-'));
const server = spawn(BIN, ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
const ticks = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, clock ticks (100/s) → µs
};
let nc;
for (let i = 0; i < 100 && nc === undefined; i++) {
  try {
    nc = await connect({ servers: `127.0.0.1:${port}` });
  } catch {
    await new Promise((r) => setTimeout(r, 100));
  }
}
// Receipt events go to a real events stream (what the gateways will do), so receipt figures include them.
const names = eventNames('bench');
await (await jetstreamManager(nc)).streams.add({ name: names.eventsStream, subjects: [names.eventsWildcard], duplicate_window: 120_000_000_000 });
const store = await NatsInboxStore.open({ nc, prefix: 'bench', events: new NatsEventPublisher(nc, names) });
const data = JSON.stringify({ title: 'x'.repeat(Math.max(0, DATA_BYTES - 12)) });

async function measure(label, count, op) {
  const c0 = process.cpuUsage();
  const s0 = ticks();
  const t0 = performance.now();
  await op();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const s = ticks() - s0;
  console.log(`${label.padEnd(34)} client ${((c.user + c.system) / count).toFixed(0).padStart(5)} µs CPU, nats-server ${(s / count).toFixed(0).padStart(5)} µs CPU, ${(ms / count).toFixed(2)} ms wall per message`);
}

// Warm-up (JIT, connections), not counted.
for (let i = 0; i < 200; i++) await store.append('warm', { data });

const last = new Map();
await measure(`append (${DATA_BYTES} B data, sequential)`, N, async () => {
  for (let i = 0; i < N; i++) {
    const user = `user-${i % USERS}`;
    last.set(user, (await store.append(user, { data, id: `m-${i}` })).seq);
  }
});
const info = await store.streamInfo();
const before = info.state.messages - 200;
await measure('pending read at connect (per msg)', N, async () => {
  for (let u = 0; u < USERS; u++) await store.pending(`user-${u}`, 0, 1000);
});
const seqs = [];
for (let u = 0; u < USERS; u++) for (const m of (await store.pending(`user-${u}`, 0, 1000)).messages) seqs.push([`user-${u}`, m.seq]);
// Each message acknowledged on its own, in order: the worst case (no cumulative receipts).
const latencies = [];
await measure('delivered receipt, one per message', seqs.length, async () => {
  for (const [user, seq] of seqs) {
    const t = performance.now();
    await store.markDelivered(user, seq);
    latencies.push(performance.now() - t);
  }
});
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2);
console.log(`receipt latency (call to event stored and state committed): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);
await measure('read receipt, cumulative per user', N, async () => {
  for (const [user, seq] of last) await store.markRead(user, seq);
});
const after = await store.streamInfo();
const ev = await (await jetstreamManager(nc)).streams.info(names.eventsStream);
console.log(`events stream: ${ev.state.messages} events, ${(ev.state.bytes / ev.state.messages).toFixed(0)} bytes per event`);
console.log(`stored: ${after.state.messages} messages, ${after.state.bytes} bytes → ${(after.state.bytes / after.state.messages).toFixed(0)} bytes per message (${DATA_BYTES} B data, file storage, R1; ${before} measured)`);
await nc.close();
server.kill('SIGKILL');
rmSync(dir, { recursive: true, force: true });
