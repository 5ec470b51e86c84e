// Regression test for uWebSockets.js#1108 (uWebSockets PR #1929): after an asynchronous
// `res.cork(() => res.upgrade(...))`, uWS v20.30 could close a freshly upgraded socket
// (1006 right after the 101, before `welcome`), about once per thousand parallel connects.
// With an HMAC secret the gateway now upgrades synchronously inside the uWS handler.
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus, type Bus } from '@herald/bus';
import { openWs, WsTestClient } from '@herald/testkit';
import { mint, sleep, startTestGateway, type TestGateway } from './helpers.js';

const BATCHES = 40;
const PARALLEL = 30;

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('synchronous upgrade (HMAC secret)', () => {
  it(`every one of ${BATCHES} × ${PARALLEL} parallel connections receives welcome`, async () => {
    gw = await startTestGateway({ LOG_LEVEL: 'warn', UPGRADE_RATE: '100000' });
    const { url } = gw;
    const failures: string[] = [];
    for (let b = 0; b < BATCHES; b++) {
      const batch = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) =>
          openWs(url, { token: mint({ sub: `b${b}-u${i}` }) }).then(
            (r) => {
              if (r instanceof WsTestClient) return r;
              failures.push(`batch ${b} #${i}: refused ${r.status} ${r.body}`);
              return undefined;
            },
            (err: unknown) => {
              failures.push(`batch ${b} #${i}: ${err instanceof Error ? err.message : String(err)}`);
              return undefined;
            },
          ),
        ),
      );
      for (const c of batch) {
        if (c === undefined) continue;
        if (c.frames[0]?.op !== 'welcome') failures.push(`batch ${b}: first frame ${JSON.stringify(c.frames[0])}`);
        c.terminate();
      }
    }
    expect(failures).toEqual([]);
  }, 30_000);
});

/** A MemoryBus whose subscriptions of personal channels take `delayMs` (or fail when `fail`). */
function slowPersonalBus(delayMs: number, fail = false): Bus {
  const bus = new MemoryBus();
  const subscribe = bus.subscribe.bind(bus);
  bus.subscribe = async (ch, h) => {
    if (ch.startsWith('user:')) {
      await sleep(delayMs);
      if (fail) throw new Error('bus down');
    }
    return subscribe(ch, h);
  };
  return bus;
}

/** A raw client that sends `frames` as soon as the socket opens (before `welcome` can have arrived). */
function rawClient(url: string, sub: string, frames: unknown[] = []): WsTestClient {
  const ws = new WebSocket(url, ['herald.v1', `herald.bearer.${mint({ sub })}`]);
  const c = new WsTestClient(ws);
  ws.once('open', () => {
    for (const f of frames) ws.send(typeof f === 'string' ? f : JSON.stringify(f));
  });
  return c;
}

describe('go-live after open', () => {
  it('answers frames sent before welcome only after it, in order', async () => {
    gw = await startTestGateway({}, slowPersonalBus(150));
    const c = rawClient(gw.url, 'early', [{ op: 'ping', id: 1 }, { op: 'sub', id: 2, topics: ['news'] }, '{"op":"nope","id":9}', { op: 'ping', id: 3 }]);
    await c.waitFrame((f) => 'id' in f && f.id === 3);
    expect(c.frames.map((f) => f.op)).toEqual(['welcome', 'pong', 'ack', 'err', 'pong']);
    c.terminate();
  });

  it('closes with 1011 when the personal channel cannot be subscribed (bus down)', async () => {
    gw = await startTestGateway({}, slowPersonalBus(10, true));
    const c = rawClient(gw.url, 'nobus');
    expect(await c.closed).toEqual({ code: 1011, reason: 'bus unavailable' });
    expect(c.frames).toEqual([]);
    expect(await gw.metric('herald_connections')).toBe(0);
  });

  it('gives everything back when the socket closes before go-live completes', async () => {
    gw = await startTestGateway({ UNSUBSCRIBE_LINGER_MS: '0', MAX_CONNECTIONS_PER_USER: '2' }, slowPersonalBus(150));
    for (let round = 0; round < 3; round++) {
      const early = [rawClient(gw.url, 'quitter'), rawClient(`${gw.url}?since=0`, 'quitter')];
      await Promise.all(early.map((c) => new Promise((r) => c.ws.once('open', r))));
      for (const c of early) c.terminate();
      await sleep(250);
      expect(await gw.metric('herald_connections')).toBe(0);
      expect(await gw.metric('herald_subscriptions')).toBe(0);
      expect(await gw.metric('herald_bus_channels')).toBe(0);
    }
    // The per-user slots came back too: the limit (2) still admits two.
    const ok = [rawClient(gw.url, 'quitter'), rawClient(gw.url, 'quitter')];
    for (const c of ok) await c.waitFrame((f) => f.op === 'welcome');
    expect(await gw.metric('herald_subscriptions')).toBe(2);
    expect(await gw.metric('herald_bus_channels')).toBe(1);
    for (const c of ok) c.terminate();
  });
});
