// Dedupe, gap detection and recovery against the scripted server: `since` on reconnect for
// every channel seen, the personal channel in the upgrade URL, `recovered: false`, epochs.
import { describe, expect, it } from 'vitest';
import type { HeraldMessage } from './types.js';
import { setup, tick, useScriptedClock } from './testing/harness.js';

useScriptedClock();

async function connectedWith(topic: string) {
  const t = setup();
  const got: HeraldMessage[] = [];
  t.client.subscribe(topic, (m) => got.push(m));
  t.client.connect();
  await tick();
  t.server.last.ackSub();
  return { ...t, got };
}

describe('delivery and recovery', () => {
  it('drops duplicates; a gap is recovered with `since` and delivered in order', async () => {
    const t = await connectedWith('a');
    const sock = t.server.last;
    sock.msg('topic:a', 5, 0);
    sock.msg('topic:a', 5, 0);
    sock.msg('topic:a', 3, 0);
    sock.msg('topic:a', 9, 7); // 7 was missed
    sock.msg('topic:a', 10, 9);
    await tick();
    expect(t.got.map((m) => m.seq)).toEqual([5]);
    const recover = sock.ofOp('sub').at(-1);
    expect(recover).toEqual({ op: 'sub', id: expect.any(Number), topics: ['a'], since: { 'topic:a': 5 }, epoch: 'e1' });
    // the replay, then live; the live copy of 9 and 10 are duplicates by then
    sock.msg('topic:a', 7, 5);
    sock.msg('topic:a', 9, 7);
    sock.ackSub();
    sock.msg('topic:a', 10, 9);
    sock.msg('topic:a', 10, 9);
    expect(t.got.map((m) => m.seq)).toEqual([5, 7, 9, 10]);
    expect(t.unrecovered).toEqual([]);
  });

  it('accepts the gap of a `conflated` message as it is: delivered, flagged, no recovery, and the channel continues from it', async () => {
    const t = setup();
    const got: HeraldMessage[] = [];
    const sub = t.client.subscribe('prices', (m) => got.push(m));
    t.client.connect();
    await tick();
    const sock = t.server.last;
    const cmd = sock.ofOp('sub').at(-1) as { id: number };
    sock.push({ op: 'ack', id: cmd.id, results: { 'topic:prices': { ok: true, recovered: false, seq: 4, conflate: true } } });
    await expect(sub.ready).resolves.toEqual({ ok: true, conflate: true });
    sock.msg('topic:prices', 5, 4);
    sock.push({ op: 'msg', ch: 'topic:prices', seq: 40, prev: 39, conflated: true, ts: 1, data: 'newest' });
    sock.msg('topic:prices', 41, 40);
    sock.msg('topic:prices', 30, 29); // older than what is held: a duplicate, never delivered after a newer one
    await tick();
    expect(got.map((m) => [m.seq, m.conflated])).toEqual([[5, undefined], [40, true], [41, undefined]]);
    expect(sock.ofOp('sub')).toHaveLength(1); // no recovery asked
    expect(t.unrecovered).toEqual([]);
    // An unflagged gap on the same channel is still recovered from the new position.
    sock.msg('topic:prices', 50, 45);
    await tick();
    expect(sock.ofOp('sub').at(-1)).toMatchObject({ topics: ['prices'], since: { 'topic:prices': 41 } });
  });

  it('recovers a gap on the personal channel with `topics: []`', async () => {
    const t = await connectedWith('a');
    const sock = t.server.last;
    sock.msg('user:u1', 3, 0);
    sock.msg('user:u1', 8, 6);
    await tick();
    expect(sock.ofOp('sub').at(-1)).toEqual({ op: 'sub', id: expect.any(Number), topics: [], since: { 'user:u1': 3 }, epoch: 'e1' });
    sock.msg('user:u1', 6, 3);
    sock.msg('user:u1', 8, 6);
    expect(t.user.map((m) => m.seq)).toEqual([3, 6, 8]);
  });

  it('on reconnect: the personal channel in the URL, every topic with `since`; `recovered: false` is reported', async () => {
    const t = await connectedWith('a');
    t.client.subscribe('b', () => undefined);
    await tick();
    t.server.last.ackSub();
    t.server.last.msg('topic:a', 5, 0);
    t.server.last.msg('user:u1', 3, 0);
    t.server.last.serverClose(1006);
    expect(t.states.at(-1)).toBe('reconnecting');
    await tick(250);
    const sock = t.server.last;
    expect(sock.url).toBe('ws://gw.test/v1/ws?since=3&epoch=e1');
    expect(t.states.at(-1)).toBe('connected');
    expect(sock.ofOp('sub')).toEqual([{ op: 'sub', id: expect.any(Number), topics: ['a', 'b'], since: { 'topic:a': 5 }, epoch: 'e1' }]);
    sock.ackSub(false);
    expect(t.unrecovered).toEqual(['topic:a']);
    sock.msg('topic:a', 40, 30); // starts afresh: no false gap after recovered:false
    expect(t.got.map((m) => m.seq)).toEqual([5, 40]);
  });

  it('a channel that received nothing yet still recovers from the live position the ack and welcome told', async () => {
    const t = setup();
    t.client.subscribe('quiet', () => undefined);
    t.server.welcomeExtra = { seq: 7 };
    t.client.connect();
    await tick();
    t.server.last.ackSub(true, { 'topic:quiet': 12 });
    t.server.welcomeExtra = {};
    t.server.last.serverClose(1006);
    await tick(250);
    const sock = t.server.last;
    expect(sock.url).toBe('ws://gw.test/v1/ws?since=7&epoch=e1');
    expect(sock.ofOp('sub')).toEqual([{ op: 'sub', id: expect.any(Number), topics: ['quiet'], since: { 'topic:quiet': 12 }, epoch: 'e1' }]);
  });

  it('a personal channel history that no longer reaches back is reported from `welcome`', async () => {
    const t = await connectedWith('a');
    t.server.last.msg('user:u1', 3, 0);
    t.server.welcomeExtra = { recovered: false };
    t.server.last.serverClose(1012);
    await tick(250);
    expect(t.unrecovered).toEqual(['user:u1']);
    t.server.last.msg('user:u1', 50, 44);
    expect(t.user.map((m) => m.seq)).toEqual([3, 50]);
  });

  it('another epoch: every channel held is unrecovered and starts afresh', async () => {
    const t = await connectedWith('a');
    t.server.last.msg('topic:a', 5, 0);
    t.server.last.msg('user:u1', 3, 0);
    t.server.welcomeExtra = { epoch: 'e2', recovered: false };
    t.server.last.serverClose(1006);
    await tick(250);
    expect(t.unrecovered.sort()).toEqual(['topic:a', 'user:u1']);
    expect(t.server.last.ofOp('sub')).toEqual([{ op: 'sub', id: expect.any(Number), topics: ['a'] }]);
    t.server.last.msg('topic:a', 1, 0);
    expect(t.got.map((m) => m.seq)).toEqual([5, 1]);
  });

  it('a topic left and taken again does not replay old messages', async () => {
    const t = await connectedWith('a');
    t.server.last.msg('topic:a', 5, 0);
    const subs = t.client.subscribe('x', () => undefined);
    subs.unsubscribe();
    await tick();
    const again = t.client.subscribe('x', () => undefined);
    await tick();
    expect(again.topic).toBe('x');
    expect(t.server.last.ofOp('sub').at(-1)).toMatchObject({ topics: ['x'] });
    expect(t.server.last.ofOp('sub').at(-1)).not.toHaveProperty('since');
  });

  it('a handler that throws does not stop delivery to the others', async () => {
    const t = await connectedWith('a');
    const other: number[] = [];
    t.client.subscribe('a', () => {
      throw new Error('app bug');
    });
    t.client.subscribe('a', (m) => other.push(m.seq));
    t.server.last.msg('topic:a', 5, 0);
    expect(other).toEqual([5]);
    expect(t.got).toHaveLength(1);
    await expect(tick(1)).rejects.toThrow('app bug'); // rethrown on a later task, where the host reports it
  });
});
