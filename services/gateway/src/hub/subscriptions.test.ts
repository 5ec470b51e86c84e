// Unit tests of joining and leaving channels: the interest reference a connection holds per channel, recovery on join, undo on failure.
import { describe, expect, it } from 'vitest';
import { MemoryBus, type MessageHandler } from '@herald/bus';
import { makeHub } from '../../test/unit-helpers.js';

/** A MemoryBus that refuses topic subscriptions (a bus outage). */
class FailingBus extends MemoryBus {
  override subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return channel.startsWith('topic:') ? Promise.reject(new Error('bus down')) : super.subscribe(channel, handler);
  }
}

describe('Subscriptions', () => {
  it('join holds one reference, subscribes natively, and is idempotent; leave gives it back once', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    expect(await hub.subscriptions.join(st, 'topic:a')).toBe(false);
    expect(await hub.subscriptions.join(st, 'topic:a')).toBe(false);
    expect(hub.interest.count('topic:a')).toBe(1);
    expect(ws.topics.has('topic:a')).toBe(true);
    expect(st.channels.includes('topic:a')).toBe(true);
    expect(hub.subscriptions.leave(st, 'topic:a')).toBe(true);
    expect(hub.subscriptions.leave(st, 'topic:a')).toBe(false);
    expect(hub.interest.count('topic:a')).toBe(0);
    expect(ws.topics.has('topic:a')).toBe(false);
  });

  it('a failed bus subscription rejects and leaves nothing held', async () => {
    const hub = makeHub({ bus: new FailingBus() });
    const { st, ws } = await hub.connect();
    await expect(hub.subscriptions.join(st, 'topic:a')).rejects.toThrow('bus down');
    expect(st.channels.length).toBe(0);
    expect(ws.topics.has('topic:a')).toBe(false);
    expect(hub.interest.count('topic:a')).toBe(0);
  });

  it('join with since replays history, then the channel is live', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    for (let i = 0; i < 3; i++) await hub.bus.publish({ channel: 'topic:a', data: String(i) });
    expect(await hub.subscriptions.join(st, 'topic:a', { since: 1, epoch: hub.bus.epoch() })).toBe(true);
    expect(ws.frames().map((f) => f['seq'])).toEqual([2, 3]);
    await hub.bus.publish({ channel: 'topic:a', data: '4' });
    expect(ws.frames().map((f) => f['seq'])).toEqual([2, 3, 4]);
    expect(hub.recovery.has('topic:a')).toBe(false);
  });

  it('re-recovers the personal channel in place without a second reference', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    await hub.bus.publish({ channel: st.userChannel, data: '1' });
    const before = ws.sent.length;
    expect(await hub.subscriptions.join(st, st.userChannel, { since: 0, epoch: hub.bus.epoch() })).toBe(true);
    expect(ws.frames().slice(before).map((f) => f['seq'])).toEqual([1]);
    expect(hub.interest.count(st.userChannel)).toBe(1);
    expect(ws.topics.has(st.userChannel)).toBe(true);
  });

  it('a recovery answered after an unsub sends nothing and holds nothing', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    await hub.bus.publish({ channel: 'topic:a', data: '1' });
    const joining = hub.subscriptions.join(st, 'topic:a', { since: 0, epoch: hub.bus.epoch() });
    hub.subscriptions.leave(st, 'topic:a');
    expect(await joining).toBe(false);
    expect(ws.sent).toEqual([]);
    expect(ws.topics.has('topic:a')).toBe(false);
    expect(hub.interest.count('topic:a')).toBe(0);
    expect(hub.recovery.has('topic:a')).toBe(false);
  });

  it('releaseAll gives back topics and the personal channel, once', async () => {
    const hub = makeHub();
    const { st } = await hub.connect();
    await hub.subscriptions.join(st, 'topic:a');
    await hub.subscriptions.join(st, 'topic:b');
    hub.subscriptions.releaseAll(st);
    hub.subscriptions.releaseAll(st);
    for (const ch of ['topic:a', 'topic:b', st.userChannel]) expect(hub.interest.count(ch)).toBe(0);
    expect(st.personalHeld).toBe(false);
  });
});
