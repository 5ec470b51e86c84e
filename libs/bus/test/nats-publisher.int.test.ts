// JetStreamPublisher against a real nats-server: acknowledgements matched to their publishes,
// dedupe, the refusals (no stream, header injection), timeouts and close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { BusError } from '../src/errors.js';
import { headers } from '@nats-io/transport-node';
import { JetStreamPublisher, ackPrefixOf, readAck } from '../src/nats-publisher.js';

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

  it('linger: publishes that follow a flush closely wait for the window and leave together; an idle publisher sends at once', async () => {
    const LINGER = 200;
    const pub = new JetStreamPublisher(nc, 'JP', 5000, LINGER);
    const t0 = performance.now();
    const first = await pub.publish({ subject: 'jp.l', data: '1' }); // idle: out at the end of the turn
    // Within the window: these wait until LINGER after the first flush, then go in one block.
    const acks = await Promise.all([2, 3, 4].map((i) => pub.publish({ subject: 'jp.l', data: String(i) }).then((a) => ({ a, at: performance.now() }))));
    expect(acks.map((x) => x.a.seq)).toEqual([first.seq + 1, first.seq + 2, first.seq + 3]);
    expect(Math.min(...acks.map((x) => x.at)) - t0).toBeGreaterThanOrEqual(LINGER - 5);
    // No flush for longer than the window: idle again, the next publish does not wait for it.
    await new Promise((r) => setTimeout(r, LINGER * 2));
    const t1 = performance.now();
    await pub.publish({ subject: 'jp.l', data: '5' });
    // (a publish that waited for a window would take LINGER at least)
    expect(performance.now() - t1).toBeLessThan(LINGER * 0.75);
    pub.close();
  });

  it('reads the acknowledgements this nats-server writes from their bytes (new and duplicate), and leaves any other to JSON', async () => {
    const ask = async (msgId: string): Promise<Uint8Array> => {
      const h = headers();
      h.set('Nats-Msg-Id', msgId);
      return (await nc.request('jp.raw', 'x', { headers: h, timeout: 5000 })).data;
    };
    const prefix = ackPrefixOf('JP');
    const fresh = readAck(await ask('raw-1'), prefix);
    expect(fresh).toMatchObject({ duplicate: false });
    expect(fresh!.seq).toBeGreaterThan(0);
    expect(readAck(await ask('raw-1'), prefix)).toEqual({ seq: fresh!.seq, duplicate: true });
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    for (const other of [
      '{"stream":"JP2","seq":5}', '{"stream":"JP","seq":0}', '{"stream":"JP","seq":05}', '{"stream":"JP","seq":}', '{"stream":"JP","seq":5,"domain":"d"}',
      '{"stream":"JP","seq":5,"duplicate":false}', '{"stream":"JP","seq":1234567890123456}', '{"stream":"JP","seq":5} ', '{"stream":"JP", "seq":5,"duplicate": true }', '{"error":{"code":503}}', '{"stream":"JP","seq":-5}',
    ]) expect(readAck(enc(other), prefix), other).toBeUndefined();
    expect(readAck(enc('{"stream":"JP","seq":123456789012345}'), prefix)).toEqual({ seq: 123456789012345, duplicate: false });
    expect(readAck(enc('{"stream":"JP", "seq":7,"duplicate":true}'), prefix)).toEqual({ seq: 7, duplicate: true });
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
    // sent but never acknowledged: perhaps stored, so 'timeout' (whose 503 does not say "nothing was stored")
    await expect(pub.publish({ subject: 'silent.a', data: '1' })).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const pending = pub.publish({ subject: 'silent.b', data: '1' });
    pub.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
    silent.unsubscribe();
  });
});
