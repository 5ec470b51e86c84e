// subscribe(topic, fn, { rewind }) against the scripted server: `since: 0` for a topic held for
// the first time, the replay before the ack cut to the newest n, then live messages as usual.
import { describe, expect, it } from 'vitest';
import { setup, tick, useScriptedClock } from './testing/harness.js';

useScriptedClock();

describe('subscribe with rewind', () => {
  it('asks for the retained history and delivers only its newest n, then live messages', async () => {
    const t = setup();
    const got: number[] = [];
    t.client.subscribe('news', (m) => got.push(m.seq), { rewind: 2 });
    t.client.connect();
    await tick();
    expect(t.server.last.ofOp('sub').at(-1)).toMatchObject({ topics: ['news'], since: { 'topic:news': 0 }, epoch: 'e1' });
    for (const [seq, prev] of [[3, 0], [5, 3], [8, 5], [9, 8]] as const) t.server.last.msg('topic:news', seq, prev);
    t.server.last.msg('topic:news', 8, 5); // a duplicate in the replay is dropped
    expect(got).toEqual([]); // held until the ack
    t.server.last.ack('sub', { results: { 'topic:news': { ok: true, recovered: true, seq: 9 } } });
    expect(got).toEqual([8, 9]);
    t.server.last.msg('topic:news', 12, 9);
    t.server.last.msg('topic:news', 9, 8);
    expect(got).toEqual([8, 9, 12]);
    expect(t.unrecovered).toEqual([]);
  });

  it('reports nothing lost when history was trimmed, and is not asked again once live', async () => {
    const t = setup();
    const got: number[] = [];
    t.client.subscribe('news', (m) => got.push(m.seq), { rewind: 5 });
    t.client.connect();
    await tick();
    t.server.last.msg('topic:news', 40, 39);
    t.server.last.ack('sub', { results: { 'topic:news': { ok: true, recovered: false, seq: 40 } } });
    expect(got).toEqual([40]);
    expect(t.unrecovered).toEqual([]);
    t.server.last.serverClose(1012);
    await tick(30_000);
    expect(t.server.last.ofOp('sub').at(-1)).toMatchObject({ since: { 'topic:news': 40 } }); // recovery, not a rewind
  });

  it('asks again after a connection lost before the ack, and ignores rewind for a topic already held', async () => {
    const t = setup();
    const got: number[] = [];
    t.client.subscribe('news', (m) => got.push(m.seq), { rewind: 1 });
    t.client.connect();
    await tick();
    t.server.last.msg('topic:news', 4, 0);
    t.server.last.serverClose(1006);
    await tick(30_000);
    expect(t.server.last.ofOp('sub').at(-1)).toMatchObject({ since: { 'topic:news': 0 } });
    t.server.last.msg('topic:news', 4, 0);
    t.server.last.ack('sub', { results: { 'topic:news': { ok: true, recovered: true, seq: 4 } } });
    expect(got).toEqual([4]);
    const later: number[] = [];
    t.client.subscribe('news', (m) => later.push(m.seq), { rewind: 3 });
    await tick();
    expect(t.server.last.ofOp('sub')).toHaveLength(1);
    expect(() => t.client.subscribe('x', () => undefined, { rewind: -1 })).toThrow(TypeError);
  });
});
