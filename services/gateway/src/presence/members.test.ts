// PresenceMembers of two nodes over one in-process member plane (MemoryBus.members): merged views,
// one join and one leave per user across nodes, the grace, batching, the cap, a silent node dropped.
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '@herald/bus';
import type { PresenceFrame } from '@herald/protocol';
import type { ConnState } from '../conn/state.js';
import { PresenceMembers, type PresenceSettings } from './members.js';

const log = { warn() {}, info() {}, debug() {}, error() {}, child() { return log; } } as never;
const SETTINGS: PresenceSettings = { topics: ['room.>'], maxMembers: 3, graceMs: 60, batchMs: 20, heartbeatMs: 50 };

function conn(sub: string, info?: Record<string, unknown>): ConnState {
  return { sub, channels: [], ...(info ? { info } : {}) } as unknown as ConnState;
}

function node(bus: MemoryBus, id: string, settings: PresenceSettings = SETTINGS): { pm: PresenceMembers; frames: PresenceFrame[]; mute(): void } {
  const frames: PresenceFrame[] = [];
  let muted = false;
  const plane = { ...bus.members, announce: (s: Parameters<MemoryBus['members']['announce']>[0]) => void (muted || bus.members.announce(s)) };
  const pm = new PresenceMembers({ settings, nodeId: id, plane, send: (_st, f) => void frames.push(f), log });
  void bus.serveControl(id, { disconnect: () => 0, presence: () => 0, members: (t) => pm.localState(t) });
  pm.start();
  return { pm, frames, mute: () => void (muted = true) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const joins = (fs: PresenceFrame[], user: string): number => fs.flatMap((f) => f.join ?? []).filter((m) => m.user === user).length;
const leaves = (fs: PresenceFrame[], user: string): number => fs.flatMap((f) => f.leave ?? []).filter((u) => u === user).length;

describe('presence members', () => {
  it('a user on two nodes with three connections joins once and leaves once, after the grace', async () => {
    const bus = new MemoryBus();
    const a = node(bus, 'a');
    const b = node(bus, 'b');
    const reader = conn('reader');
    b.pm.joined('topic:room.1', reader);
    expect(await b.pm.addReader(reader, 'room.1')).toEqual([{ user: 'reader' }]);
    const c1 = conn('ann', { n: 1 });
    const c2 = conn('ann');
    const c3 = conn('ann');
    a.pm.joined('topic:room.1', c1);
    a.pm.joined('topic:room.1', c2);
    await sleep(40);
    b.pm.joined('topic:room.1', c3);
    await sleep(80);
    expect(joins(b.frames, 'ann')).toBe(1);
    // The info shown is the lowest node id's (a's), on every node.
    expect(b.frames.flatMap((f) => f.join ?? [])).toContainEqual({ user: 'ann', info: { n: 1 } });
    expect(a.pm.memberCount('room.1')).toBe(2);
    a.pm.left('topic:room.1', c1);
    a.pm.left('topic:room.1', c2);
    b.pm.left('topic:room.1', c3);
    await sleep(30);
    expect(leaves(b.frames, 'ann')).toBe(0); // within the grace
    await sleep(100);
    expect(leaves(b.frames, 'ann')).toBe(1);
    expect(joins(b.frames, 'ann')).toBe(1);
    a.pm.close();
    b.pm.close();
  });

  it('a reconnect within the grace and a join+leave within one window send nothing', async () => {
    const bus = new MemoryBus();
    const a = node(bus, 'a', { ...SETTINGS, graceMs: 0 });
    const reader = conn('reader');
    a.pm.joined('topic:room.2', reader);
    await a.pm.addReader(reader, 'room.2');
    const x = conn('x');
    a.pm.joined('topic:room.2', x);
    a.pm.left('topic:room.2', x);
    await sleep(60);
    expect(a.frames).toEqual([]);
    a.pm.close();
  });

  it('admits members up to the cap; a member\'s next connection always', async () => {
    const bus = new MemoryBus();
    const a = node(bus, 'a');
    for (const u of ['u1', 'u2', 'u3']) {
      const c = conn(u);
      expect(await a.pm.admit(c, 'room.cap')).toBe(true);
      a.pm.joined('topic:room.cap', c);
    }
    expect(await a.pm.admit(conn('u4'), 'room.cap')).toBe(false);
    expect(await a.pm.admit(conn('u2'), 'room.cap')).toBe(true);
    a.pm.close();
  });

  it('drops a node that stops announcing (killed) after three heartbeats', async () => {
    const bus = new MemoryBus();
    const a = node(bus, 'a');
    const b = node(bus, 'b');
    const reader = conn('reader');
    a.pm.joined('topic:room.k', reader);
    await a.pm.addReader(reader, 'room.k');
    b.pm.joined('topic:room.k', conn('gone'));
    await sleep(60);
    expect(joins(a.frames, 'gone')).toBe(1);
    // "Kill" b: it stops announcing, without a last empty list.
    b.mute();
    await sleep(50 * 3 + 500 + 150);
    expect(leaves(a.frames, 'gone')).toBe(1);
    a.pm.close();
    b.pm.close();
  });
});
