// JetStreamPublisher against a real nats-server: acknowledgements matched to their publishes,
// dedupe, the refusals (no stream, header injection), timeouts and close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { BusError } from '../src/errors.js';
import { JetStreamPublisher } from '../src/nats-publisher.js';

describe('JetStreamPublisher', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'JP', subjects: ['jp.>'] });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('resolves each publish with its own seq, in issue order, and dedupes by msgId', async () => {
    const pub = new JetStreamPublisher(nc, 'JP', 5000);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => pub.publish({ subject: `jp.s${i % 3}`, data: String(i) })));
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const first = await pub.publish({ subject: 'jp.d', data: '"x"', id: 'k1', msgId: 'm-k1' });
    const again = await pub.publish({ subject: 'jp.d', data: '"x"', id: 'k1', msgId: 'm-k1' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    pub.close();
  });

  it('rejects with unavailable when no stream holds the subject, and with invalid for a CR or LF in an id', async () => {
    const pub = new JetStreamPublisher(nc, 'JP', 5000);
    await expect(pub.publish({ subject: 'nostream.x', data: '1' })).rejects.toMatchObject({ code: 'unavailable' });
    await expect(pub.publish({ subject: 'jp.x', data: '1', id: 'a\r\nNats-Msg-Id: b' })).rejects.toMatchObject({ code: 'invalid' });
    pub.close();
  });

  it('rejects with unavailable when the stream named is not the one holding the subject', async () => {
    const pub = new JetStreamPublisher(nc, 'OTHER', 5000);
    await expect(pub.publish({ subject: 'jp.x', data: '1' })).rejects.toBeInstanceOf(BusError);
    pub.close();
  });

  it('times out a publish nobody acknowledges, and rejects pending publishes on close', async () => {
    // a core subscriber that never answers stands in for a stream that does not acknowledge
    const silent = nc.subscribe('silent.>', { callback: () => undefined });
    await nc.flush();
    const pub = new JetStreamPublisher(nc, 'JP', 200);
    const started = Date.now();
    await expect(pub.publish({ subject: 'silent.a', data: '1' })).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const pending = pub.publish({ subject: 'silent.b', data: '1' });
    pub.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    silent.unsubscribe();
  });
});
