// Cost of the presence CAS path per connect/disconnect: CPU µs of this process (tracker + NATS
// client) and NATS round trips per operation, for each kind of operation, on a real nats-server
// (one server R1, then a three-server cluster R3). Run after `npm run build`:
//   node libs/events/bench/cas-cost.mjs [users=300]
import { connect } from '@nats-io/transport-node';
import { startNatsServer, startNatsCluster } from '@herald/testkit';
import { openNatsPresence } from '@herald/events';

const USERS = Number(process.argv[2] ?? 300);
// Longer than any phase below, so every grace ends in the last (measured) block.
const GRACE_MS = 3000;

async function phase(presence, label, op) {
  process.stderr.write(`  ${label}\n`);
  const before = { ...presence.stats };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < USERS; i++) await op(`user-${i}`);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const per = (k) => ((presence.stats[k] - before[k]) / USERS).toFixed(2);
  const rtt = ((presence.stats.gets - before.gets + presence.stats.puts - before.puts + presence.stats.publishes - before.publishes) / USERS).toFixed(2);
  return { label, cpuUs: Math.round((cpu.user + cpu.system) / USERS), wallUs: Math.round((wall * 1000) / USERS), roundTrips: rtt, gets: per('gets'), puts: per('puts'), publishes: per('publishes'), conflicts: per('conflicts') };
}

async function measure(servers, replicas) {
  const nc = await connect({ servers });
  const presence = await openNatsPresence({ nc, prefix: `bench${replicas}`, node: 'bench', graceMs: GRACE_MS, heartbeatMs: 100, replicas });
  const t = presence.tracker;
  const rows = [];
  rows.push(await phase(presence, 'first connection (user.online)', (u) => t.userConnected(u)));
  rows.push(await phase(presence, 'another connection (no event)', (u) => t.userConnected(u)));
  rows.push(await phase(presence, 'a disconnect, others remain', (u) => t.userDisconnected(u)));
  rows.push(await phase(presence, 'last disconnect (grace starts)', (u) => t.userDisconnected(u)));
  // The grace timers fire on their own: measure what they cost as a block.
  const before = { ...presence.stats };
  const cpu0 = process.cpuUsage();
  const waitStart = Date.now();
  while (presence.stats.publishes < 2 * USERS) {
    if (Date.now() - waitStart > 30_000) throw new Error(`grace phase stuck: ${JSON.stringify({ before, now: presence.stats })}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 200));
  const cpu = process.cpuUsage(cpu0);
  const d = (k) => ((presence.stats[k] - before[k]) / USERS).toFixed(2);
  rows.push({ label: 'grace over (user.offline)', cpuUs: Math.round((cpu.user + cpu.system) / USERS), wallUs: '-', roundTrips: ((presence.stats.gets - before.gets + presence.stats.puts - before.puts + presence.stats.publishes - before.publishes) / USERS).toFixed(2), gets: d('gets'), puts: d('puts'), publishes: d('publishes'), conflicts: d('conflicts') });
  await presence.close();
  await nc.close();
  return rows;
}

/** A reconnect storm on one node: every user drops and reconnects at once, within the grace. */
async function storm(servers, users) {
  const nc = await connect({ servers });
  const presence = await openNatsPresence({ nc, prefix: 'storm', node: 'storm', graceMs: 5000, heartbeatMs: 1000, replicas: 1 });
  const t = presence.tracker;
  const names = Array.from({ length: users }, (_, i) => `storm-${i}`);
  await Promise.all(names.map((u) => t.userConnected(u)));
  const run = async (label, body) => {
    const before = { ...presence.stats };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await body();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const d = (k) => presence.stats[k] - before[k];
    console.log(`reconnect storm, ${users} users on one node, R1, ${label}: ${d('puts')} KV writes, ${d('gets')} reads, ${d('conflicts')} conflicts, ${d('publishes')} events; ${Math.round(wall)} ms, ${Math.round((cpu.user + cpu.system) / 1000)} ms CPU`);
  };
  console.log('');
  await run('drop and reconnect in one turn', () => Promise.all(names.flatMap((u) => [t.userDisconnected(u), t.userConnected(u)])));
  await run('all drop, then all reconnect', async () => {
    await Promise.all(names.map((u) => t.userDisconnected(u)));
    await Promise.all(names.map((u) => t.userConnected(u)));
  });
  await presence.close();
  await nc.close();
}

const only = process.env.ONLY;
if (only !== 'r3') {
const single = await startNatsServer();
console.log(`\n${USERS} users, one nats-server, R1`);
console.table(await measure([single.url], 1));
await storm([single.url], 1500);
await single.stop();
}
const cluster = await startNatsCluster(3);
console.log(`\n${USERS} users, three-server cluster, R3 (client on one server)`);
console.table(await measure([cluster.servers[0].url], 3));
await cluster.stop();
process.exit(0);
