// Conflated topics (HERALD_CONFLATE_TOPICS) over real sockets: a stalled reader is paused instead of closed, then gets the newest message.
import { afterEach, describe, expect, it } from 'vitest';
import { connectWs, waitFor, type WsTestClient } from '@herald/testkit';
import type { MsgFrame } from '@herald/protocol';
import { mint, startTestGateway, type TestGateway } from './helpers.js';

let gw: TestGateway | undefined;
const clients: WsTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

const PRICES = 'topic:prices.eur';
const PAYLOAD = 'y'.repeat(8000);

async function client(g: TestGateway, topics: string[]): Promise<WsTestClient> {
  const c = await connectWs(g.url, { token: mint({ topics: ['prices.*', 'news'] }) });
  clients.push(c);
  const ack = await c.request({ op: 'sub', id: 'sub', topics });
  expect(ack.op).toBe('ack');
  return c;
}

/** Stops reading the socket (the kernel buffers fill, then uWS's). */
function stall(c: WsTestClient): { resume(): void } {
  const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  return { resume: () => socket.resume() };
}

function msgs(c: WsTestClient, ch: string): MsgFrame[] {
  return c.ofOp('msg').filter((m) => m.ch === ch);
}

describe('conflated topics', () => {
  it('pauses a reader that stops instead of closing it; on resuming it gets the newest message, flagged; a fast reader gets every message', async () => {
    const g = (gw = await startTestGateway({ WS_MAX_BACKPRESSURE_BYTES: String(64 * 1024), CONFLATE_TOPICS: 'prices.*' }));
    const slow = await client(g, ['prices.eur']);
    expect(slow.ofOp('ack')[0]?.results?.[PRICES]).toMatchObject({ ok: true, conflate: true });
    const fast = await client(g, ['prices.eur']);
    const stalled = stall(slow);
    // ~3 MB/s until a check sees the stalled socket's buffer over the high-water mark (the kernel's buffers fill first).
    await waitFor(async () => {
      for (let i = 0; i < 20; i++) await g.publish(PRICES, PAYLOAD);
      return (await g.metric('herald_conflations_total')) >= 1;
    }, 30_000, 'the stalled reader to be conflated', 50);
    // More than the 4008 limit's worth while it is paused: all skipped, none queued for it.
    let last = 0;
    for (let i = 0; i < 40; i++) last = await g.publish(PRICES, { i });
    expect(slow.closeInfo).toBeUndefined();
    stalled.resume();
    await slow.waitFrame((f) => f.op === 'msg' && f.seq === last, 30_000);
    // Live again: the next message comes natively, right after the newest.
    const next = await g.publish(PRICES, { after: true });
    await slow.waitFrame((f) => f.op === 'msg' && f.seq === next, 5000);

    const got = msgs(slow, PRICES);
    for (let i = 1; i < got.length; i++) {
      const [a, b] = [got[i - 1] as MsgFrame, got[i] as MsgFrame];
      expect(b.seq).toBeGreaterThan(a.seq); // never an older one after a newer, no duplicate
      // a gap is only ever a flagged one
      if (b.prev !== a.seq) expect(b.conflated).toBe(true);
    }
    const newest = got.find((m) => m.seq === last);
    expect(newest?.conflated).toBe(true);
    expect(newest?.prev).toBe(last - 1);
    expect(got.at(-1)).toMatchObject({ seq: next, prev: last });
    expect(got.at(-1)?.conflated).toBeUndefined();
    expect(got.filter((m) => m.conflated === true).length).toBeGreaterThanOrEqual(1);

    await fast.waitFrame((f) => f.op === 'msg' && f.seq === next, 10_000);
    const all = msgs(fast, PRICES);
    expect(all.map((m) => m.seq)).toEqual(Array.from({ length: next }, (_, i) => i + 1));
    expect(all.some((m) => m.conflated === true)).toBe(false);

    expect(slow.closeInfo).toBeUndefined();
    expect(await g.metric('herald_slow_consumers_total')).toBe(0);
    expect(await g.metric('herald_conflated_messages_total')).toBeGreaterThanOrEqual(40);
  });

  it('still closes a stalled reader with 4008 for non-conflated traffic, even while it holds a conflated topic', async () => {
    const g = (gw = await startTestGateway({ WS_MAX_BACKPRESSURE_BYTES: String(64 * 1024), CONFLATE_TOPICS: 'prices.*' }));
    const slow = await client(g, ['news', 'prices.eur']);
    const results = slow.ofOp('ack')[0]?.results;
    expect(results?.['topic:news']).not.toHaveProperty('conflate');
    expect(results?.[PRICES]).toMatchObject({ conflate: true });
    const stalled = stall(slow);
    await waitFor(async () => {
      for (let i = 0; i < 20; i++) await g.publish('topic:news', PAYLOAD);
      return (await g.metric('herald_slow_consumers_total')) >= 1;
    }, 30_000, 'the slow consumer to be closed', 50);
    stalled.resume();
    expect(await slow.closed).toEqual({ code: 4008, reason: 'slow consumer' });
    const seqs = msgs(slow, 'topic:news').map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] ?? 0) + 1); // nothing skipped on news
  });
});
