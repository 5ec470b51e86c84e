/**
 * The InboxStore contract against the memory store and against a real nats-server (JetStream
 * stream + KV), plus what only JetStream does: the stream's configuration and its limits.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryInboxStore, NatsInboxStore, inboxNames } from '../src/index.js';
import { inboxContract, RecordingPublisher, TestClock, type StoreOptions } from './contract.js';

let shared: MemoryInboxStore | undefined;
inboxContract('memory', {
  make: (o: StoreOptions) => {
    shared ??= new MemoryInboxStore({ events: o.events, now: o.clock.now, ...(o.ttlMs ? { ttlMs: o.ttlMs } : {}), ...(o.maxPerUser ? { maxPerUser: o.maxPerUser } : {}) });
    return Promise.resolve(shared);
  },
  reset: () => {
    shared = undefined;
    return Promise.resolve();
  },
});

let server: NatsServerHandle;
const connections: NatsConnection[] = [];
let prefixN = 0;
beforeAll(async () => {
  server = await startNatsServer();
}, 30_000);
afterAll(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  await server?.stop();
});

inboxContract('JetStream', {
  // Each store gets its own connection (a replica); stores of one test share a prefix, so the same stream.
  make: async (o: StoreOptions) => {
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    return NatsInboxStore.open({
      nc, prefix: `t${prefixN}`, events: o.events, now: o.clock.now,
      ...(o.ttlMs ? { ttlMs: o.ttlMs } : {}), ...(o.maxPerUser ? { maxPerUser: o.maxPerUser } : {}),
    });
  },
  reset: async () => {
    prefixN++;
    await Promise.all(connections.splice(0).map((c) => c.close()));
  },
});

describe('JetStream inbox stream', () => {
  it('is a file stream with the TTL as max age, the per-user max, discard old, a live RePublish, under the prefix', async () => {
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    const store = await NatsInboxStore.open({ nc, prefix: 'acme.prod', ttlMs: 86_400_000, maxPerUser: 50, replicas: 1, events: new RecordingPublisher(), now: new TestClock().now });
    const names = inboxNames('acme.prod');
    expect(names.stream).toMatch(/^acme_prod_[0-9a-f]{8}_inbox$/);
    const info = await (await jetstreamManager(nc)).streams.info(names.stream);
    expect(info.config).toMatchObject({
      subjects: ['acme.prod.inbox.>'], storage: 'file', max_age: 86_400_000 * 1e6, max_msgs_per_subject: 50, discard: 'old', allow_direct: true,
      republish: { src: 'acme.prod.inbox.>', dest: 'acme.prod.inbox-live.>' },
    });
    // Opening again (another replica, a restart) with new limits updates the stream.
    await NatsInboxStore.open({ nc, prefix: 'acme.prod', ttlMs: 3_600_000, maxPerUser: 10 });
    expect((await store.streamInfo()).config).toMatchObject({ max_age: 3_600_000 * 1e6, max_msgs_per_subject: 10 });
  });
});
