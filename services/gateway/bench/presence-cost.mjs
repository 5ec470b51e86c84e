// Cost of presence members per connection on one gateway node (docs/events.md#presence-members):
// heap per member held and CPU per join and per leave, on the node's PresenceMembers with an
// in-process member plane (what a NATS node does minus the NATS round trips, which are one
// announcement per topic per batch window and per heartbeat, whatever the number of joins).
// Run after a build: node services/gateway/bench/presence-cost.mjs [members=20000] [topics=20]
import { PresenceMembers } from '../dist/presence/members.js';

const N = Number(process.argv[2] ?? 20_000);
const TOPICS = Number(process.argv[3] ?? 20);
const announced = { n: 0, bytes: 0 };
const plane = {
  announce: (s) => { announced.n++; announced.bytes += JSON.stringify(s).length; },
  watch: async () => () => undefined,
  query: async () => [],
};
const log = { warn() {}, info() {}, debug() {}, error() {}, child() { return this; } };
const frames = { n: 0 };
const pm = new PresenceMembers({
  settings: { topics: ['room.>'], maxMembers: 100_000, graceMs: 0, batchMs: 50, heartbeatMs: 60_000 },
  nodeId: 'bench', plane, send: () => void frames.n++, log,
});
const conns = Array.from({ length: N }, (_, i) => ({ sub: `user-${i}`, info: { name: `User ${i}` }, channels: new Set() }));
const ch = (i) => `topic:room.${i % TOPICS}`;
// Topic views first (as the first subscriber of each topic on a node would).
for (let t = 0; t < TOPICS; t++) await pm.admit(conns[t], `room.${t}`);
// One reader per topic, so frames are built and sent.
for (let t = 0; t < TOPICS; t++) await pm.addReader({ sub: `reader-${t}`, channels: new Set() }, `room.${t}`);
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
let t0 = process.cpuUsage();
for (let i = 0; i < N; i++) pm.joined(ch(i), conns[i]);
const joinCpu = process.cpuUsage(t0);
global.gc?.();
const heap1 = process.memoryUsage().heapUsed;
await new Promise((r) => setTimeout(r, 120)); // one batch: frames and announcements
const joinAll = process.cpuUsage(t0);
const afterJoinFrames = frames.n;
const afterJoinAnn = announced.n;
t0 = process.cpuUsage();
for (let i = 0; i < N; i++) pm.left(ch(i), conns[i]);
const leaveCpu = process.cpuUsage(t0);
await new Promise((r) => setTimeout(r, 120));
const leaveAll = process.cpuUsage(t0);
const us = (c) => (c.user + c.system) / N;
console.log(JSON.stringify({
  members: N, topics: TOPICS,
  heapBytesPerMember: Math.round((heap1 - heap0) / N),
  cpuUsPerJoin: +us(joinCpu).toFixed(2), cpuUsPerLeave: +us(leaveCpu).toFixed(2),
  cpuUsPerJoinWithBatch: +us(joinAll).toFixed(2), cpuUsPerLeaveWithBatch: +us(leaveAll).toFixed(2),
  framesForJoins: afterJoinFrames, announcementsForJoins: afterJoinAnn,
  framesForLeaves: frames.n - afterJoinFrames, announcementsForLeaves: announced.n - afterJoinAnn,
  announcedBytes: announced.bytes,
  note: 'cpuUsPerJoin/Leave: the calls; ...WithBatch: plus the batch timer that builds the frames and the announcement (JSON of the full list)',
}));
pm.close();
