// Unit tests of the one join sequence: capture → interest → history → ready/live/apply in one corked step, undo on failure.
import { describe, expect, it } from 'vitest';
import { MemoryBus, type MessageHandler } from '@herald/bus';
import { makeHub, RecordingSocket, verified } from '../../test/unit-helpers.js';
import { newConnState, type ConnState } from '../conn/state.js';

/** A MemoryBus that refuses subscriptions to one channel. */
class RefusingBus extends MemoryBus {
  constructor(readonly refused: string) {
    super();
  }
  override subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return channel === this.refused ? Promise.reject(new Error('bus down')) : super.subscribe(channel, handler);
  }
}

async function fresh(): Promise<ConnState> {
  return newConnState('c1', await verified({ sub: 'u1' }), 0, Date.now());
}

describe('Join', () => {
  it('joins several channels: ready before the socket exists, then live first in the corked step, then replay or live subscription', async () => {
    const hub = makeHub();
    for (let i = 0; i < 3; i++) await hub.bus.publish({ channel: 'topic:a', data: String(i) });
    const st = await fresh();
    const ws = new RecordingSocket();
    const order: string[] = [];
    const out = await hub.join.run(st, [{ channel: 'user:u1', resume: undefined }, { channel: 'topic:a', resume: { since: 1, epoch: hub.bus.epoch() } }], {
      owned: true,
      wanted: () => true,
      ready: (recovered) => {
        order.push(`ready ${recovered.join()}`);
        st.ws = ws;
      },
      live: () => void ws.send('{"op":"welcome"}'),
    });
    expect(out).toEqual({ ok: true, recovered: [false, true] });
    expect(order).toEqual(['ready false,true']);
    expect(ws.frames().map((f) => f['op'] === 'msg' ? f['seq'] : f['op'])).toEqual(['welcome', 2, 3]);
    expect([...ws.topics].sort()).toEqual(['topic:a', 'user:u1']);
    expect(hub.interest.count('topic:a')).toBe(1);
    expect(hub.recovery.has('topic:a')).toBe(false);
  });

  it('a bus failure on one channel gives back every reference the join took and every capture', async () => {
    const hub = makeHub({ bus: new RefusingBus('topic:b') });
    const st = await fresh();
    const out = await hub.join.run(st, [{ channel: 'topic:a', resume: { since: 0, epoch: undefined } }, { channel: 'topic:b', resume: undefined }], {
      owned: true, wanted: () => true,
    });
    expect(out).toMatchObject({ ok: false, reason: 'bus' });
    expect(hub.interest.count('topic:a')).toBe(0);
    expect(hub.recovery.has('topic:a')).toBe(false);
  });

  it('no longer wanted after the awaits: undone, and nothing is sent', async () => {
    const hub = makeHub();
    const st = await fresh();
    const ws = new RecordingSocket();
    st.ws = ws;
    await hub.bus.publish({ channel: 'topic:a', data: '1' });
    const out = await hub.join.run(st, [{ channel: 'topic:a', resume: { since: 0, epoch: undefined } }], { owned: true, wanted: () => false });
    expect(out).toEqual({ ok: false, reason: 'gone' });
    expect(ws.sent).toEqual([]);
    expect(hub.interest.count('topic:a')).toBe(0);
    expect(hub.recovery.has('topic:a')).toBe(false);
  });

  it('leaves references it does not own to their owner', async () => {
    const hub = makeHub();
    const st = await fresh();
    const out = await hub.join.run(st, [{ channel: 'topic:a', resume: undefined }], { owned: false, wanted: () => false });
    expect(out).toEqual({ ok: false, reason: 'gone' });
    expect(hub.interest.count('topic:a')).toBe(1);
  });
});
