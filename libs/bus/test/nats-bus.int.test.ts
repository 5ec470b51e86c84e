// NatsBus against real nats-server processes: the contract on one server and on a three-node cluster.
import { startNatsCluster, startNatsServer } from '@herald/testkit';
import { busContract, type BusFixture } from './bus.contract.js';
import { NatsBus, type NatsBusOptions } from '../src/nats-bus.js';

/** Connects the three buses of a fixture; on any failure closes what was opened and stops the servers. */
async function fixture(stop: () => Promise<void>, options: readonly NatsBusOptions[]): Promise<BusFixture> {
  const opened: NatsBus[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(opened.map((b) => b.close()));
    await stop();
  };
  try {
    for (const o of options) opened.push(await NatsBus.connect(o));
  } catch (err) {
    await cleanup();
    throw err;
  }
  const [bus, peer, publisher] = opened as [NatsBus, NatsBus, NatsBus];
  return { bus, peer, publisher, cleanup };
}

busContract('NatsBus (one server)', async ({ history }) => {
  const server = await startNatsServer();
  return fixture(() => server.stop(), ['node-a', 'node-b', 'publisher'].map((name) => ({ servers: server.url, history, name })));
});

busContract('NatsBus (three-node cluster, R3)', async ({ history }) => {
  const cluster = await startNatsCluster(3);
  const urls = cluster.servers.map((s) => s.url);
  // The publisher is on server 1, the subscribing node on server 2, its peer on server 3.
  return fixture(() => cluster.stop(), [
    { servers: urls[1] as string, history, replicas: 3, name: 'node-a' },
    { servers: urls[2] as string, history, replicas: 3, name: 'node-b' },
    { servers: urls[0] as string, history, replicas: 3, name: 'publisher' },
  ]);
});
