/**
 * Presence members across nodes (docs/events.md#presence-members): each gateway node announces
 * the full member list it holds of a presence topic (on change, batched, and periodically as a
 * heartbeat); nodes that serve subscribers of the topic watch the announcements and merge them.
 * Full lists, not deltas: an announcement lost or reordered is healed by the next one, and a
 * node that stops announcing (killed) is dropped by the watchers after a timeout.
 * @module
 */

/** One member: a user and the `info` claim of one of their connections. */
export interface MemberEntry {
  readonly user: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

/** One node's members of one topic. */
export interface MemberState {
  readonly node: string;
  readonly topic: string;
  readonly members: readonly MemberEntry[];
  /** ms until the node's next announcement at the latest (a watcher drops the node after a few of these). */
  readonly every: number;
}

/** The transport of member lists (NATS core subjects, or in-process). */
export interface MemberPlane {
  /** Sends this node's list of a topic to every watcher (fire and forget; at most once). */
  announce(state: MemberState): void;
  /** Receives every node's announcements of `topic` until the returned function is called. */
  watch(topic: string, onState: (state: MemberState) => void): Promise<() => void>;
  /** Asks every node for its list of `topic` (nodes holding no member of it answer nothing). */
  query(topic: string): Promise<MemberState[]>;
}

/** Parses an announcement or a query answer; `undefined` for anything malformed (never throws). */
export function parseMemberState(text: string): MemberState | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    if (typeof o['node'] !== 'string' || typeof o['topic'] !== 'string' || !Array.isArray(o['members'])) return undefined;
    const members: MemberEntry[] = [];
    for (const m of o['members'] as unknown[]) {
      if (typeof m !== 'object' || m === null) continue;
      const e = m as Record<string, unknown>;
      if (typeof e['user'] !== 'string') continue;
      const info = e['info'];
      members.push(typeof info === 'object' && info !== null && !Array.isArray(info) ? { user: e['user'], info: info as Record<string, unknown> } : { user: e['user'] });
    }
    const every = typeof o['every'] === 'number' && o['every'] > 0 ? o['every'] : 5000;
    return { node: o['node'], topic: o['topic'], members, every };
  } catch {
    return undefined;
  }
}
