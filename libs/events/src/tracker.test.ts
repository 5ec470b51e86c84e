import { describe, expect, it } from 'vitest';
import type { AnyEvent } from './event.js';
import { MemoryEventHub } from './memory-hub.js';
import { MemoryPresenceStore } from './memory-store.js';
import { openMemoryPresence } from './open.js';
import { PresenceTracker } from './tracker.js';

function collect(hub: MemoryEventHub): AnyEvent[] {
  const events: AnyEvent[] = [];
  hub.subscribe((e) => events.push(e));
  return events;
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('presence tracker (memory store)', () => {
  it('several connections: one online; all gone past the grace: one offline', async () => {
    const { tracker, hub } = openMemoryPresence({ node: 'a', graceMs: 100 });
    const events = collect(hub);
    await Promise.all([tracker.userConnected('u1'), tracker.userConnected('u1'), tracker.userConnected('u1')]);
    expect(events.map((e) => e.type)).toEqual(['user.online']);
    await tracker.userDisconnected('u1');
    await tracker.userDisconnected('u1');
    await tracker.userDisconnected('u1');
    expect(events).toHaveLength(1);
    await until(() => events.length === 2);
    expect(events[1]).toMatchObject({ type: 'user.offline', data: { user: 'u1' } });
    expect(events[0]?.id).not.toBe(events[1]?.id);
    expect(events[1]?.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
    await tracker.close();
  });

  it('a reconnect within the grace makes no pair; topics occupy and vacate the same way', async () => {
    const { tracker, hub } = openMemoryPresence({ node: 'a', graceMs: 150 });
    const events = collect(hub);
    await tracker.userConnected('u');
    await tracker.topicSubscribed('news.eu');
    await tracker.userDisconnected('u');
    await tracker.userConnected('u');
    await tracker.topicUnsubscribed('news.eu');
    await until(() => events.some((e) => e.type === 'topic.vacated'));
    await new Promise((r) => setTimeout(r, 250));
    expect(events.map((e) => e.type)).toEqual(['user.online', 'topic.occupied', 'topic.vacated']);
    await tracker.close();
  });

  it('a hop between two trackers of one store within the grace makes no pair', async () => {
    const hub = new MemoryEventHub();
    const events = collect(hub);
    const store = new MemoryPresenceStore(hub);
    const make = (n: string): PresenceTracker => new PresenceTracker({ incarnation: n, node: n, store, publisher: hub, graceMs: 100 });
    const a = make('a');
    const b = make('b');
    await a.userConnected('u');
    await a.userDisconnected('u');
    await b.userConnected('u');
    await new Promise((r) => setTimeout(r, 200));
    expect(events.map((e) => e.type)).toEqual(['user.online']);
    await b.userDisconnected('u');
    await until(() => events.length === 2);
    expect(events[1]?.type).toBe('user.offline');
  });

  it('connection events are opt-in and carry the close code', async () => {
    const off = openMemoryPresence({ node: 'a', graceMs: 100 });
    const none = collect(off.hub);
    await off.tracker.connectionOpened('u', 'c1');
    expect(none).toEqual([]);
    const on = openMemoryPresence({ node: 'a', graceMs: 100, connectionEvents: true });
    const some = collect(on.hub);
    await on.tracker.connectionOpened('u', 'c1');
    await on.tracker.connectionClosed('u', 'c1', 4001);
    expect(some.map((e) => e.type)).toEqual(['connection.opened', 'connection.closed']);
    expect(some[1]?.data).toMatchObject({ code: 4001, connection: 'c1', node: 'a' });
  });
});
