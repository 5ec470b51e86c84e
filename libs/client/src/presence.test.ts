// subscription.presence against the scripted server: `presence: [topic]` in the `sub` frame,
// members from the `sub` result, `presence` frames as joins and leaves, a reconnect's new list
// as the differences only; the WebSocket-only entry ignores the option.
import { describe, expect, it } from 'vitest';
import { HeraldClient as WsOnlyClient } from './ws.js';
import { FakeServer } from './testing/fake-server.js';
import { setup, tick, TOKEN, useScriptedClock } from './testing/harness.js';

useScriptedClock();

describe('subscription.presence', () => {
  it('lists the members of the sub result, then applies join and leave frames', async () => {
    const t = setup();
    const sub = t.client.subscribe('room.1', () => undefined, { presence: true });
    const plain = t.client.subscribe('news', () => undefined);
    expect(plain.presence).toBeUndefined();
    const events: string[] = [];
    sub.presence!.on('join', (u, info) => events.push(`+${u}${JSON.stringify(info)}`));
    const off = sub.presence!.on('leave', (u) => events.push(`-${u}`));
    t.client.connect();
    await tick();
    const frame = t.server.last.ofOp('sub').at(-1);
    expect(frame).toMatchObject({ topics: ['room.1', 'news'], presence: ['room.1'] });
    t.server.last.ack('sub', { results: { 'topic:room.1': { ok: true, recovered: false, members: [{ user: 'a', info: { n: 1 } }, { user: 'b' }] }, 'topic:news': { ok: true, recovered: false } } });
    expect([...sub.presence!.members.keys()]).toEqual(['a', 'b']);
    t.server.last.push({ op: 'presence', ch: 'topic:room.1', join: [{ user: 'c' }], leave: ['a'] });
    expect([...sub.presence!.members.keys()].sort()).toEqual(['b', 'c']);
    expect(events).toEqual(['+a{"n":1}', '+b{}', '-a', '+c{}']);
    // After a reconnect the new list counts only by its differences.
    t.server.last.serverClose(1012);
    await tick(30_000);
    t.server.last.ack('sub', { results: { 'topic:room.1': { ok: true, recovered: true, members: [{ user: 'c' }, { user: 'd' }] } } });
    expect(events.slice(4)).toEqual(['-b', '+d{}']);
    off();
    t.server.last.push({ op: 'presence', ch: 'topic:room.1', leave: ['c'] });
    expect(events.slice(6)).toEqual([]);
    expect([...sub.presence!.members.keys()]).toEqual(['d']);
  });

  it('is left out of the WebSocket-only entry (the option is ignored)', async () => {
    const server = new FakeServer();
    const client = new WsOnlyClient({ url: 'http://gw.test', token: TOKEN, WebSocket: server.WebSocket });
    const sub = client.subscribe('room.1', () => undefined, { presence: true });
    expect(sub.presence).toBeUndefined();
    client.connect();
    await tick();
    expect(server.last.ofOp('sub').at(-1)).not.toHaveProperty('presence');
    client.close();
  });
});
