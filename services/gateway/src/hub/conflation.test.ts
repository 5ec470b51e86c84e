// Unit tests of conflation: pause over the high-water mark, newest-only resume with the flag, the raised 4008 limit, recovery and unsub.
import { describe, expect, it } from 'vitest';
import { makeHub, type Hub, type RecordingSocket } from '../../test/unit-helpers.js';
import type { ConnState } from '../conn/state.js';

const LIMIT = 16 * 1024; // high-water mark 4096, low-water mark 1024
const PRICES = 'topic:prices.eur';
const NEWS = 'topic:news';

async function setup(): Promise<{ hub: Hub; st: ConnState; ws: RecordingSocket }> {
  const hub = makeHub({ conflate: ['prices.*'], backpressure: LIMIT });
  const { st, ws } = await hub.connect({ topics: ['prices.*', 'news'] });
  await hub.subscriptions.join(st, PRICES);
  await hub.subscriptions.join(st, NEWS);
  return { hub, st, ws };
}

async function publish(hub: Hub, channel: string, n = 1): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await hub.bus.publish({ channel, data: JSON.stringify(i) })).seq);
  return seqs;
}

const msgs = (ws: RecordingSocket, ch: string) => ws.frames().filter((f) => f['op'] === 'msg' && f['ch'] === ch);
const metric = async (hub: Hub, name: 'conflations' | 'conflatedMessages') => (await hub.metrics[name].get()).values[0]?.value ?? 0;

describe('Conflation', () => {
  it('matches topic channels against the patterns only', () => {
    const hub = makeHub({ conflate: ['prices.*', 'state.>'] });
    expect(hub.conflation.enabled).toBe(true);
    expect(hub.conflation.isConflated('topic:prices.eur')).toBe(true);
    expect(hub.conflation.isConflated('topic:state.a.b')).toBe(true);
    expect(hub.conflation.isConflated('topic:prices')).toBe(false);
    expect(hub.conflation.isConflated('user:prices.eur')).toBe(false);
    expect(makeHub().conflation.enabled).toBe(false);
  });

  it('pauses a socket over the high-water mark, then resumes it at the low one with the newest message, flagged, and goes native again', async () => {
    const { hub, st, ws } = await setup();
    const [p1] = await publish(hub, PRICES);
    ws.buffered = 5000;
    hub.conflation.check();
    expect(ws.topics.has(PRICES)).toBe(false); // natively unsubscribed: the fan-out skips it
    expect(ws.topics.has(NEWS)).toBe(true); // other channels are untouched
    expect(await metric(hub, 'conflations')).toBe(1);
    const skipped = await publish(hub, PRICES, 3);
    const [n1] = await publish(hub, NEWS);
    ws.buffered = 2000;
    hub.conflation.drained(st); // above the low-water mark: still paused
    expect(ws.topics.has(PRICES)).toBe(false);
    ws.buffered = 500;
    hub.conflation.drained(st);
    expect(ws.topics.has(PRICES)).toBe(true);
    const [p5] = await publish(hub, PRICES);
    expect(msgs(ws, PRICES).map((f) => [f['seq'], f['prev'], f['conflated']])).toEqual([
      [p1, 0, undefined],
      [skipped[2], skipped[1], true],
      [p5, skipped[2], undefined],
    ]);
    expect(msgs(ws, NEWS).map((f) => f['seq'])).toEqual([n1]);
    expect(await metric(hub, 'conflatedMessages')).toBe(2);
  });

  it('sends nothing when nothing newer came, and no flag when the newest skips nothing', async () => {
    const { hub, st, ws } = await setup();
    await publish(hub, PRICES);
    ws.buffered = 5000;
    hub.sender.checkBackpressure(st); // the sweep pauses too
    ws.buffered = 0;
    hub.conflation.drained(st);
    expect(ws.topics.has(PRICES)).toBe(true);
    expect(msgs(ws, PRICES)).toHaveLength(1);
    ws.buffered = 5000;
    hub.conflation.check();
    const [p2] = await publish(hub, PRICES);
    ws.buffered = 0;
    hub.sender.checkBackpressure(st); // and resumes
    expect(msgs(ws, PRICES).at(-1)).toMatchObject({ seq: p2, prev: p2 !== undefined ? p2 - 1 : 0 });
    expect(msgs(ws, PRICES).at(-1)).not.toHaveProperty('conflated');
    expect(await metric(hub, 'conflatedMessages')).toBe(0);
  });

  it('a direct send over the high-water mark pauses too; the 4008 limit is raised by what the socket held at the pause, and other traffic still closes it', async () => {
    const { hub, st, ws } = await setup();
    ws.sendResult = 0;
    ws.buffered = 40_000; // over the limit already: conflated traffic overshot before a check saw it
    expect(hub.sender.send(st, { op: 'pong', id: 1 })).toBe(true);
    expect(ws.topics.has(PRICES)).toBe(false);
    expect(st.conflate?.slack).toBe(40_000 - 4096);
    expect(hub.sender.checkBackpressure(st)).toBe(true);
    ws.buffered = LIMIT + (40_000 - 4096) + 1; // grew by more than the limit since: non-conflated bytes
    expect(hub.sender.checkBackpressure(st)).toBe(false);
    expect(ws.ended).toEqual({ code: 4008, reason: 'slow consumer' });
  });

  it('a socket without conflated topics is closed with 4008 as before', async () => {
    const hub = makeHub({ conflate: ['prices.*'], backpressure: LIMIT });
    const { st, ws } = await hub.connect({ topics: ['news'] });
    await hub.subscriptions.join(st, NEWS);
    expect(st.conflate).toBeUndefined();
    ws.buffered = LIMIT + 1;
    expect(hub.sender.checkBackpressure(st)).toBe(false);
    expect(ws.ended?.code).toBe(4008);
  });

  it('a recovery of a paused channel takes over: resuming later sends nothing for it twice', async () => {
    const { hub, st, ws } = await setup();
    const [p1] = await publish(hub, PRICES);
    ws.buffered = 5000;
    hub.conflation.check();
    const later = await publish(hub, PRICES, 2);
    ws.buffered = 0;
    await hub.subscriptions.join(st, PRICES, { since: p1 ?? 0, epoch: hub.bus.epoch() });
    expect(ws.topics.has(PRICES)).toBe(true);
    hub.conflation.drained(st);
    expect(msgs(ws, PRICES).map((f) => f['seq'])).toEqual([p1, ...later]);
    expect(msgs(ws, PRICES).some((f) => f['conflated'] === true)).toBe(false);
  });

  it('forgets a socket on unsub and close, and drops a channel record with its last holder', async () => {
    const { hub, st, ws } = await setup();
    const other = await hub.connect({ topics: ['prices.*'] });
    await hub.subscriptions.join(other.st, PRICES);
    expect(hub.conflation.size).toBe(1);
    ws.buffered = 5000;
    hub.conflation.check();
    expect(st.conflate?.paused.size).toBe(1);
    hub.subscriptions.leave(st, PRICES);
    expect(st.conflate).toBeUndefined();
    expect(hub.conflation.size).toBe(1);
    hub.subscriptions.releaseAll(other.st);
    expect(other.st.conflate).toBeUndefined();
    expect(hub.conflation.size).toBe(0);
  });
});
