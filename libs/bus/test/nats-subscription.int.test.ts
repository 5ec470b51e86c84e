// lightenCallbackSubscription against the installed NATS client and a real nats-server: it applies
// to callback subscriptions (and only to them), and a lightened subscription still delivers,
// unsubscribes, resolves `closed`, and lets its connection close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { lightenCallbackSubscription } from '../src/nats-subscription.js';

describe('lightenCallbackSubscription', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  /** Resolves with the data of the first `n` messages the callback gets. */
  function collector(n: number): { callback: (err: Error | null, msg: Msg) => void; done: Promise<string[]> } {
    const got: string[] = [];
    let finish: (v: string[]) => void = () => undefined;
    const done = new Promise<string[]>((r) => (finish = r));
    return {
      callback: (err, msg) => {
        if (err) return;
        got.push(msg.string());
        if (got.length === n) finish(got);
      },
      done,
    };
  }

  it('applies to a callback subscription of the installed client, which still delivers every message in order', async () => {
    const c = collector(100);
    const sub = nc.subscribe('light.a', { callback: c.callback });
    // fails when a client update moves the fields: the memory saving would be gone silently
    expect(lightenCallbackSubscription(sub)).toBe(true);
    await nc.flush();
    for (let i = 0; i < 100; i++) nc.publish('light.a', String(i));
    expect(await c.done).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    sub.unsubscribe();
  });

  it('leaves iterator subscriptions alone', async () => {
    const sub = nc.subscribe('light.iter');
    expect(lightenCallbackSubscription(sub)).toBe(false);
    await nc.flush();
    nc.publish('light.iter', 'x');
    for await (const m of sub) {
      expect(m.string()).toBe('x');
      break;
    }
  });

  it('a lightened subscription unsubscribes (nothing more arrives), resolves closed, and a second one on the same subject is unaffected', async () => {
    const first: string[] = [];
    const sub = nc.subscribe('light.b', { callback: (err, msg) => void (err || first.push(msg.string())) });
    lightenCallbackSubscription(sub);
    const c = collector(2);
    const other = nc.subscribe('light.b', { callback: c.callback });
    lightenCallbackSubscription(other);
    await nc.flush();
    nc.publish('light.b', '1');
    await nc.flush();
    sub.unsubscribe();
    await sub.closed;
    expect(sub.isClosed()).toBe(true);
    nc.publish('light.b', '2');
    expect(await c.done).toEqual(['1', '2']); // the other one got both, in order, after the first left
    expect(first).toEqual(['1']);
    other.unsubscribe();
  });

  it('a connection holding lightened subscriptions closes, and their closed promises resolve', async () => {
    const nc2 = await connect({ servers: server.url });
    const subs = Array.from({ length: 20 }, (_, i) => nc2.subscribe(`light.c${i}`, { callback: () => undefined }));
    for (const s of subs) expect(lightenCallbackSubscription(s)).toBe(true);
    await nc2.flush();
    await nc2.close();
    await Promise.all(subs.map((s) => s.closed));
    expect(subs.every((s) => s.isClosed())).toBe(true);
  });
});
