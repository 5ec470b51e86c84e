/**
 * `subscription.presence` (docs/sdk.md#api): the members of a topic and their joins and
 * leaves. In the full client only (`@herald/client`); the WebSocket-only entry leaves it out to
 * stay within its size budget, and ignores `presence: true`.
 * @module
 */
import { Emitter } from './emitter.js';
import type { InboundFrame, Transport } from './transport.js';
import type { Presence, Subscription } from './types.js';

type Info = Readonly<Record<string, unknown>>;
type Member = { user: string; info?: Info };

/** @internal What the core calls: on `subscribe(…, { presence: true })`, on every `sub` sent, on every frame received. */
export interface PresenceExt {
  track(topic: string, sub: Subscription): Subscription;
  out(frame: { op: string; topics?: readonly string[]; presence?: string[] }): void;
  /** `t`: the transport the frame came on (the inbox entry sends its `receipt` frames on it). */
  feed(frame: InboundFrame, t?: Transport): void;
  /** The last inbox seq held (the inbox entry): sent as `?inbox=` when a WebSocket (re)connects. */
  inboxAt?(): number;
}

interface Roster extends Presence {
  readonly members: Map<string, Info>;
  update(join: readonly Member[], leave: readonly string[], all?: boolean): void;
}

function roster(): Roster {
  const members = new Map<string, Info>();
  const events = new Emitter<Record<'join' | 'leave', [string, Info]>>();
  const emit = events.emit.bind(events);
  return {
    members,
    on: (ev, fn) => events.on(ev, fn),
    // `all`: the whole list of a `sub` result (after a reconnect too): differences become joins and leaves.
    update(join, leave, all) {
      for (const u of all ? [...members.keys()].filter((u) => !join.some((m) => m.user === u)) : leave) {
        const info = members.get(u);
        if (info && members.delete(u)) emit('leave', u, info);
      }
      for (const m of join) {
        if (all && members.has(m.user)) continue;
        members.set(m.user, m.info ?? {});
        emit('join', m.user, m.info ?? {});
      }
    },
  };
}

/** @internal The presence side of one client: a roster per topic asked with `presence: true`. */
export function presenceExt(): PresenceExt {
  const rosters = new Map<string, Roster>();
  const of = (ch: unknown): Roster | undefined => rosters.get(String(ch).slice(6));
  return {
    track(topic, sub) {
      let r = rosters.get(topic);
      if (!r) rosters.set(topic, (r = roster()));
      return { ...sub, presence: r };
    },
    out(f) {
      const p = f.op === 'sub' ? (f.topics ?? []).filter((t) => rosters.has(t)) : [];
      if (p.length > 0) f.presence = p;
    },
    feed(f) {
      if (f.op === 'presence') of(f['ch'])?.update((f['join'] ?? []) as Member[], (f['leave'] ?? []) as string[]);
      const results = f.op === 'ack' ? (f['results'] as Record<string, { members?: Member[] }> | undefined) : undefined;
      for (const ch in results) {
        const m = results[ch]?.members;
        if (m) of(ch)?.update(m, [], true);
      }
    },
  };
}
