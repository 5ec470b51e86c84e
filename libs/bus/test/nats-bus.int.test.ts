// NatsBus against real nats-server processes: the contract on one server and on a three-node
// cluster, with one partition (one stream) and with three (channels spread over three streams).
import { afterAll } from 'vitest';
import { startNatsCluster, startNatsServer, type NatsClusterHandle, type NatsServerHandle } from '@herald/testkit';
import { busContract, type BusFixture } from './bus.contract.js';
import { NatsBus, type NatsBusOptions } from '../src/nats-bus.js';
import { partitionOf } from '../src/subjects.js';

/**
 * Stores one message, never evicted during the suite, first in every partition's stream. A read
 * from since 0 is `complete` only while the stream's first seq is 1 (nats-history.ts, condition
 * B: a channel evicted at the head of the stream makes it conservative for every channel). With
 * one stream the suite's first test holds seq 1; with several, each stream's first message would
 * otherwise belong to whichever random channel landed there first, maybe one evicted later.
 */
async function pinFirstSeqs(bus: NatsBus, partitions: number): Promise<void> {
  for (let k = 0; k < partitions; k++) {
    let i = 0;
    while (partitionOf(`topic:contract.pin${i}`, partitions) !== k) i++;
    await bus.publish({ channel: `topic:contract.pin${i}`, data: '"pin"' });
  }
}

/** Connects the three buses of a fixture; on any failure closes what was opened and stops the servers. */
async function fixture(stop: () => Promise<void>, options: readonly NatsBusOptions[]): Promise<BusFixture> {
  const opened: NatsBus[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(opened.map((b) => b.close()));
    await stop();
  };
  try {
    for (const o of options) opened.push(await NatsBus.connect(o));
    await pinFirstSeqs(opened[opened.length - 1] as NatsBus, options[0]?.partitions ?? 1);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const [bus, peer, publisher] = opened as [NatsBus, NatsBus, NatsBus];
  return { bus, peer, publisher, cleanup };
}

// Every fixture's servers start when the file loads, all at once: a cluster takes seconds to
// route and elect its JetStream meta leader, and those seconds pass while the suites before it
// run, instead of one after the other. Each suite still gets servers of its own.
const servers = new Map<string, Promise<NatsServerHandle>>();
const clusters = new Map<string, Promise<NatsClusterHandle>>();
for (const partitions of [1, 3]) {
  servers.set(String(partitions), startNatsServer());
  clusters.set(String(partitions), startNatsCluster(3));
}
// A start that fails is reported by the suite that awaits it, not as an unhandled rejection.
for (const p of [...servers.values(), ...clusters.values()]) p.catch(() => undefined);
afterAll(async () => {
  const started = await Promise.allSettled([...servers.values(), ...clusters.values()]);
  await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
});

for (const partitions of [1, 3]) {
  const of = partitions === 1 ? '' : `, ${partitions} partitions`;

  busContract(`NatsBus (one server${of})`, async ({ history }) => {
    const server = await servers.get(String(partitions))!;
    return fixture(() => server.stop(), ['node-a', 'node-b', 'publisher'].map((name) => ({ servers: server.url, history, partitions, name })));
  });

  busContract(`NatsBus (three-node cluster, R3${of})`, async ({ history }) => {
    const cluster = await clusters.get(String(partitions))!;
    const urls = cluster.servers.map((s) => s.url);
    // The publisher is on server 1, the subscribing node on server 2, its peer on server 3.
    return fixture(() => cluster.stop(), [
      { servers: urls[1] as string, history, replicas: 3, partitions, name: 'node-a' },
      { servers: urls[2] as string, history, replicas: 3, partitions, name: 'node-b' },
      { servers: urls[0] as string, history, replicas: 3, partitions, name: 'publisher' },
    ]);
  });
}
