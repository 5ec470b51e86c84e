// Unit tests of the connection lifecycle: welcome first with the personal channel live, recovery at open, failures and close.
import { describe, expect, it } from 'vitest';
import { MemoryBus, type MessageHandler } from '@herald/bus';
import { CloseCode } from '@herald/protocol';
import { makeHub, RecordingSocket, silentLog, verified, type Hub } from '../../test/unit-helpers.js';
import { Sessions } from '../hub/session.js';
import { newConnState, type ConnState, type PendingOpen } from '../conn/state.js';
import { Connections } from '../conn/registry.js';
import { BUS_UNAVAILABLE_CLOSE, Lifecycle } from './lifecycle.js';

/** A MemoryBus whose personal-channel subscriptions fail (a bus outage at open). */
class FailingBus extends MemoryBus {
  override subscribe(channel: string, handler: MessageHandler): Promise<void> {
    return channel.startsWith('user:') ? Promise.reject(new Error('bus down')) : super.subscribe(channel, handler);
  }
}

function lifecycle(hub: Hub, draining = (): boolean => false): { lc: Lifecycle; connections: Connections } {
  const connections = new Connections(100, 10);
  const sessions = new Sessions({ nodeId: 'n1', heartbeatMs: 25_000, connections, subscriptions: hub.subscriptions, metrics: hub.metrics, log: silentLog });
  const lc = new Lifecycle({
    epoch: () => hub.bus.epoch(), position: (ch) => hub.bus.position(ch), sessions, join: hub.join,
    subscriptions: hub.subscriptions, sender: hub.sender, draining, log: silentLog,
  });
  return { lc, connections };
}

async function pending(connections: Connections, open: PendingOpen, claims: Record<string, unknown> = {}): Promise<{ st: ConnState; ws: RecordingSocket }> {
  const token = await verified(claims);
  expect(connections.reserve(token.sub)).toBe(true);
  const st = newConnState('c1', token, 10, Date.now());
  st.pendingOpen = open;
  const ws = new RecordingSocket();
  ws.st = st;
  return { st, ws };
}

const FRESH: PendingOpen = { resumeAsked: false, resume: undefined };

describe('Lifecycle', () => {
  it('sends welcome first, with the personal channel live at the seq it names, and nothing before go-live', async () => {
    const hub = makeHub();
    const { lc, connections } = lifecycle(hub);
    const { st, ws } = await pending(connections, FRESH, { sub: 'u1', exp: Math.floor(Date.now() / 1000) + 3600 });
    await hub.bus.publish({ channel: 'user:u1', data: '1' });
    lc.opened(st, ws);
    expect(ws.sent).toEqual([]);
    expect(connections.size).toBe(1);
    await st.queue;
    const [welcome] = ws.frames();
    expect(welcome).toEqual({ op: 'welcome', conn: 'c1', node: 'n1', user: 'u1', heartbeat: 25_000, epoch: hub.bus.epoch(), exp: st.exp, seq: 1 });
    expect(Object.keys(welcome ?? {})).toEqual(['op', 'conn', 'node', 'user', 'heartbeat', 'epoch', 'exp', 'seq']);
    expect(ws.topics.has('user:u1')).toBe(true);
    expect(st.personalHeld).toBe(true);
    expect(st.pendingOpen).toBeUndefined();
    expect(hub.interest.count('user:u1')).toBe(1);
  });

  it('recovers the personal channel from since: welcome says recovered, then the replay', async () => {
    const hub = makeHub();
    const { lc, connections } = lifecycle(hub);
    for (let i = 0; i < 3; i++) await hub.bus.publish({ channel: 'user:u1', data: String(i) });
    const { st, ws } = await pending(connections, { resumeAsked: true, resume: { since: 1, epoch: hub.bus.epoch() } }, { sub: 'u1' });
    lc.opened(st, ws);
    await st.queue;
    const frames = ws.frames();
    expect(frames[0]).toMatchObject({ op: 'welcome', recovered: true });
    expect(frames.slice(1).map((f) => f['seq'])).toEqual([2, 3]);
    expect(ws.topics.has('user:u1')).toBe(true);
    expect(hub.recovery.has('user:u1')).toBe(false);
  });

  it('answers recovered: false when since was unusable', async () => {
    const hub = makeHub();
    const { lc, connections } = lifecycle(hub);
    const { st, ws } = await pending(connections, { resumeAsked: true, resume: undefined });
    lc.opened(st, ws);
    await st.queue;
    expect(ws.frames()[0]).toMatchObject({ op: 'welcome', recovered: false });
  });

  it('closes with 1011 when the personal channel cannot be subscribed, holding no reference', async () => {
    const hub = makeHub({ bus: new FailingBus() });
    const { lc, connections } = lifecycle(hub);
    const { st, ws } = await pending(connections, FRESH);
    lc.opened(st, ws);
    await st.queue;
    expect(ws.ended?.code).toBe(BUS_UNAVAILABLE_CLOSE);
    expect(ws.sent).toEqual([]);
    expect(hub.interest.count(st.userChannel)).toBe(0);
  });

  it('closes with 1012 instead of going live once the node drains', async () => {
    const hub = makeHub();
    let draining = false;
    const { lc, connections } = lifecycle(hub, () => draining);
    const { st, ws } = await pending(connections, FRESH);
    lc.opened(st, ws);
    draining = true;
    await st.queue;
    expect(ws.ended?.code).toBe(CloseCode.Draining);
    expect(ws.sent).toEqual([]);
    lc.closed(st, CloseCode.Draining);
    expect(hub.interest.count(st.userChannel)).toBe(0);
  });

  it('a socket closed during go-live gives back the personal reference once; close frees the slot', async () => {
    const hub = makeHub();
    const { lc, connections } = lifecycle(hub);
    const { st, ws } = await pending(connections, FRESH);
    lc.opened(st, ws);
    lc.closed(st, 1006);
    await st.queue;
    expect(ws.sent).toEqual([]);
    expect(hub.interest.count(st.userChannel)).toBe(0);
    expect(connections.size).toBe(0);
    expect(connections.admitted).toBe(0);
  });

  it('close releases the personal channel and every topic, and is idempotent', async () => {
    const hub = makeHub();
    const { lc, connections } = lifecycle(hub);
    const { st, ws } = await pending(connections, FRESH, { topics: ['a'] });
    lc.opened(st, ws);
    await st.queue;
    await hub.subscriptions.join(st, 'topic:a');
    expect(hub.interest.count('topic:a')).toBe(1);
    lc.closed(st, 1000);
    lc.closed(st, 1000);
    expect(hub.interest.count('topic:a')).toBe(0);
    expect(hub.interest.count(st.userChannel)).toBe(0);
    expect(st.channels.length).toBe(0);
    expect(connections.admitted).toBe(0);
  });
});
