// Unit tests of recovery: buffer capture, history pages, dedupe between replay and buffer, refusals, and the socket going away.
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '@herald/bus';
import { makeHub } from '../../test/unit-helpers.js';
import { MAX_RECOVERY_BUFFER } from './recovery.js';

async function publishN(bus: MemoryBus, channel: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push((await bus.publish({ channel, data: String(i) })).seq);
  return seqs;
}

describe('Recovery', () => {
  it('replays history after since, then buffered live messages newer than the replay, then subscribes', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    const before = await publishN(hub.bus, 'topic:t', 5);
    await hub.interest.acquire('topic:t');
    const buf = hub.recovery.begin(st, 'topic:t', before[1] ?? 0);
    const plan = await hub.recovery.read('topic:t', before[1] ?? 0, hub.bus.epoch());
    // Live messages that arrive while history was being read: one overlaps the replay, two are new.
    const overlap = before[4] ?? 0;
    hub.recovery.offer('topic:t', overlap, `{"op":"msg","ch":"topic:t","seq":${overlap}}`);
    const live = await publishN(hub.bus, 'topic:t', 2);
    expect(buf.items.map((i) => i.seq)).toEqual([overlap, ...live]);
    expect(ws.topics.has('topic:t')).toBe(false);
    expect(hub.recovery.apply(buf, plan)).toBe(true);
    expect(ws.frames().map((f) => f['seq'])).toEqual([...before.slice(2), ...live]);
    expect(ws.topics.has('topic:t')).toBe(true);
    expect(hub.recovery.has('topic:t')).toBe(false);
  });

  it('reads history page after page beyond the bus page limit', async () => {
    const hub = makeHub();
    const seqs = await publishN(hub.bus, 'topic:big', 2500);
    const plan = await hub.recovery.read('topic:big', 0, undefined);
    expect(plan.ok && plan.messages.map((m) => m.seq)).toEqual(seqs);
  });

  it('refuses when the epoch differs, history was trimmed, or there is too much to replay', async () => {
    const small = new MemoryBus({ history: { maxPerChannel: 3 } });
    const hub = makeHub({ bus: small, maxRecovery: 50 });
    const seqs = await publishN(small, 'topic:t', 10);
    expect(await hub.recovery.read('topic:t', 0, 'another-epoch')).toEqual({ ok: false, reason: 'epoch' });
    expect(await hub.recovery.read('topic:t', seqs[0] ?? 0, small.epoch())).toEqual({ ok: false, reason: 'incomplete' });
    expect((await hub.recovery.read('topic:t', seqs[7] ?? 0, small.epoch())).ok).toBe(true);
    const big = makeHub({ maxRecovery: 50 });
    await publishN(big.bus, 'topic:t', 60);
    expect(await big.recovery.read('topic:t', 0, undefined)).toEqual({ ok: false, reason: 'too_many' });
  });

  it('when not recoverable: no replay, buffered live messages still flushed, live subscription', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    await publishN(hub.bus, 'topic:t', 3);
    await hub.interest.acquire('topic:t');
    const buf = hub.recovery.begin(st, 'topic:t', 1);
    const live = await publishN(hub.bus, 'topic:t', 1);
    expect(hub.recovery.apply(buf, { ok: false, reason: 'epoch' })).toBe(false);
    expect(ws.frames().map((f) => f['seq'])).toEqual(live);
    expect(ws.topics.has('topic:t')).toBe(true);
  });

  it('drops the buffer and answers not recovered when live traffic overflows it', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    const buf = hub.recovery.begin(st, 'topic:t', 0);
    for (let i = 1; i <= MAX_RECOVERY_BUFFER + 1; i++) hub.recovery.offer('topic:t', i, '{}');
    expect(buf.overflow).toBe(true);
    expect(hub.recovery.apply(buf, { ok: true, messages: [] })).toBe(false);
    expect(ws.sent).toHaveLength(0);
  });

  it('drops everything cleanly when the socket closed meanwhile', async () => {
    const hub = makeHub();
    const { st, ws } = await hub.connect();
    await publishN(hub.bus, 'topic:t', 3);
    const buf = hub.recovery.begin(st, 'topic:t', 0);
    const plan = await hub.recovery.read('topic:t', 0, undefined);
    ws.end(1006);
    hub.recovery.apply(buf, plan);
    expect(ws.sent).toHaveLength(0);
    expect(hub.recovery.has('topic:t')).toBe(false);
  });

  it('stops replaying at the first send that makes the socket a slow consumer', async () => {
    const hub = makeHub({ backpressure: 10 });
    const { st, ws } = await hub.connect();
    await publishN(hub.bus, 'topic:t', 5);
    const buf = hub.recovery.begin(st, 'topic:t', 0);
    const plan = await hub.recovery.read('topic:t', 0, undefined);
    ws.sendResult = 0; // backpressure
    ws.buffered = 100;
    hub.recovery.apply(buf, plan);
    expect(ws.sent).toHaveLength(1);
    expect(ws.ended).toEqual({ code: 4008, reason: 'slow consumer' });
    expect(ws.topics.has('topic:t')).toBe(false);
  });
});
