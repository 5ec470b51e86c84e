/**
 * Presence members of one gateway node (docs/events.md#presence-members).
 *
 * For topics matching HERALD_PRESENCE_TOPICS every node keeps, per topic it serves:
 * - its **local** members: users holding the topic on this node, with their connection count and
 *   the `info` claim of their first connection; a user whose last local connection left stays a
 *   member for HERALD_PRESENCE_GRACE_MS (a reconnect within it changes nothing anywhere);
 * - the **remote** lists: every other node's full list, as announced on the bus (members.ts of
 *   @herald/bus), dropped when a node stays silent for 3 announcement periods (a killed node);
 * - the **merged** view: a user is a member while any node lists them (one join, one leave per
 *   user for the whole cluster, however many connections and nodes they use).
 * Subscribers that asked for presence (`sub` with `presence: true`) get the merged list in their
 * `sub` result and then `presence` frames with the difference, at most one per topic per
 * HERALD_PRESENCE_BATCH_MS (joins and leaves that cancel out within a window send nothing).
 * @module
 */
import type { MemberEntry, MemberPlane, MemberState } from '@herald/bus';
import { compileTopicPatterns, type TopicMatcher } from '@herald/auth';
import { TOPIC_PREFIX, type PresenceFrame, type PresenceMember } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { ConnState } from '../conn/state.js';

export interface PresenceSettings {
  /** HERALD_PRESENCE_TOPICS (patterns); empty: presence members off. */
  readonly topics: readonly string[];
  readonly maxMembers: number;
  readonly graceMs: number;
  readonly batchMs: number;
  readonly heartbeatMs: number;
}

export interface PresenceDeps {
  readonly settings: PresenceSettings;
  readonly nodeId: string;
  readonly plane: MemberPlane;
  /** Sends a frame to a connection (Sender.send). */
  readonly send: (st: ConnState, frame: PresenceFrame) => void;
  readonly log: Logger;
}

/** Counters for tests and metrics. */
export interface PresenceStats {
  framesSent: number;
  joinsSent: number;
  leavesSent: number;
  announcements: number;
}

interface LocalMember {
  conns: number;
  info: Readonly<Record<string, unknown>> | undefined;
  /** Set while the member's grace runs (conns is 0). */
  leaveTimer: NodeJS.Timeout | undefined;
}

interface RemoteNode {
  members: Map<string, Readonly<Record<string, unknown>> | undefined>;
  expires: number;
}

class TopicMembers {
  readonly local = new Map<string, LocalMember>();
  readonly remote = new Map<string, RemoteNode>();
  /** user → number of sources (this node, other nodes) listing them. */
  readonly sources = new Map<string, number>();
  /** The view the readers were last told (sub result or last frame). */
  shown = new Map<string, Readonly<Record<string, unknown>> | undefined>();
  readonly readers = new Set<ConnState>();
  ready: Promise<void> | undefined;
  unwatch: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Local list changed since the last announcement. */
  dirty = false;
  closed = false;
}

/** How many silent announcement periods before a node's list is dropped. */
const SILENT_PERIODS = 3;

export class PresenceMembers {
  readonly stats: PresenceStats = { framesSent: 0, joinsSent: 0, leavesSent: 0, announcements: 0 };
  readonly #deps: PresenceDeps;
  readonly #matcher: TopicMatcher | undefined;
  readonly #topics = new Map<string, TopicMembers>();
  #beat: NodeJS.Timeout | undefined;

  constructor(deps: PresenceDeps) {
    this.#deps = deps;
    this.#matcher = deps.settings.topics.length > 0 ? compileTopicPatterns(deps.settings.topics) : undefined;
  }

  /** Local members (users with a connection here) summed over topics, and topics held (members or readers), for the metrics. */
  sizes(): { readonly members: number; readonly topics: number } {
    let members = 0;
    for (const t of this.#topics.values()) members += t.local.size;
    return { members, topics: this.#topics.size };
  }

  get enabled(): boolean {
    return this.#matcher !== undefined;
  }

  /** True for a topic name (not channel) whose members are tracked. */
  isPresenceTopic(topic: string): boolean {
    return this.#matcher?.allows(topic) === true;
  }

  /** Starts the periodic announcement (every node's heartbeat per topic it holds members of). */
  start(): void {
    if (!this.enabled || this.#beat) return;
    this.#beat = setInterval(() => this.#heartbeat(), this.#deps.settings.heartbeatMs);
    this.#beat.unref();
  }

  /**
   * Before `st` subscribes to a presence topic: builds the topic's view (first time on this node:
   * asks every node) and checks the cap. False: the topic is full for this user.
   */
  async admit(st: ConnState, topic: string): Promise<boolean> {
    const t = this.#topic(topic);
    await this.#ready(topic, t);
    return t.sources.has(st.sub) || t.sources.size < this.#deps.settings.maxMembers;
  }

  /** `st` asked for presence on `topic` (it holds the topic): the current members, then frames. */
  async addReader(st: ConnState, topic: string): Promise<PresenceMember[]> {
    const t = this.#topic(topic);
    await this.#ready(topic, t);
    // Older readers get the pending difference first, so the list below is what every reader was told.
    this.#flush(topic, t);
    t.readers.add(st);
    return [...t.shown].map(([user, info]) => memberOf(user, info));
  }

  /** `st` may no longer read the members of `topic` (a new token): no more frames; it stays a member. */
  dropReader(st: ConnState, topic: string): void {
    this.#topics.get(topic)?.readers.delete(st);
  }

  /** The topic observer side: a connection now holds `channel`. */
  joined(channel: string, st: ConnState): void {
    const topic = topicOf(channel);
    if (topic === undefined || !this.isPresenceTopic(topic)) return;
    const t = this.#topic(topic);
    void this.#ready(topic, t);
    const m = t.local.get(st.sub);
    if (m) {
      m.conns++;
      if (m.leaveTimer) {
        clearTimeout(m.leaveTimer);
        m.leaveTimer = undefined;
      }
      return;
    }
    t.local.set(st.sub, { conns: 1, info: st.info, leaveTimer: undefined });
    this.#addSource(t, st.sub);
    this.#changed(topic, t, true);
  }

  /** A connection no longer holds `channel` (unsub or close). */
  left(channel: string, st: ConnState): void {
    const topic = topicOf(channel);
    if (topic === undefined) return;
    const t = this.#topics.get(topic);
    if (!t) return;
    t.readers.delete(st);
    const m = t.local.get(st.sub);
    if (!m || m.conns === 0) return;
    m.conns--;
    if (m.conns > 0) return;
    const end = (): void => {
      m.leaveTimer = undefined;
      if (t.local.get(st.sub) !== m || m.conns > 0) return;
      t.local.delete(st.sub);
      this.#dropSource(t, st.sub);
      this.#changed(topic, t, true);
    };
    if (this.#deps.settings.graceMs <= 0) end();
    else {
      m.leaveTimer = setTimeout(end, this.#deps.settings.graceMs);
      m.leaveTimer.unref();
    }
  }

  /** This node's list of a topic, for the bus's members query; `undefined` when it holds none. */
  localState(topic: string): MemberState | undefined {
    const t = this.#topics.get(topic);
    if (!t || t.local.size === 0) return undefined;
    return this.#state(topic, t);
  }

  /** The merged member count of a topic as seen here (tests, metrics); undefined when not followed. */
  memberCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.sources.size;
  }

  /** Stops timers and watches; announces empty lists so the others drop this node at once. */
  close(): void {
    if (this.#beat) clearInterval(this.#beat);
    this.#beat = undefined;
    for (const [topic, t] of this.#topics) {
      t.closed = true;
      if (t.timer) clearTimeout(t.timer);
      for (const m of t.local.values()) if (m.leaveTimer) clearTimeout(m.leaveTimer);
      t.unwatch?.();
      if (t.local.size > 0) this.#deps.plane.announce({ node: this.#deps.nodeId, topic, members: [], every: this.#deps.settings.heartbeatMs });
    }
    this.#topics.clear();
  }

  #topic(topic: string): TopicMembers {
    let t = this.#topics.get(topic);
    if (!t) {
      t = new TopicMembers();
      this.#topics.set(topic, t);
    }
    return t;
  }

  /** First use of a topic here: watch the announcements, then ask every node for its list. */
  #ready(topic: string, t: TopicMembers): Promise<void> {
    t.ready ??= (async () => {
      try {
        const unwatch = await this.#deps.plane.watch(topic, (s) => this.#onState(topic, t, s));
        if (t.closed) {
          unwatch();
          return;
        }
        t.unwatch = unwatch;
        for (const s of await this.#deps.plane.query(topic)) this.#onState(topic, t, s);
      } catch (err) {
        // The heartbeat announcements fill the view within one period.
        this.#deps.log.warn({ err, topic }, 'presence members: initial query failed');
      }
      // What a first reader is told starts from here (no join frames for who was already there).
      t.shown = this.#merged(t);
    })();
    return t.ready;
  }

  #onState(topic: string, t: TopicMembers, s: MemberState): void {
    if (s.node === this.#deps.nodeId || t.closed) return;
    const old = t.remote.get(s.node);
    const next = new Map<string, Readonly<Record<string, unknown>> | undefined>();
    for (const m of s.members.slice(0, this.#deps.settings.maxMembers)) next.set(m.user, m.info);
    let changed = false;
    for (const user of next.keys()) {
      if (!old?.members.has(user)) {
        this.#addSource(t, user);
        changed = true;
      }
    }
    if (old) {
      for (const user of old.members.keys()) {
        if (!next.has(user)) {
          this.#dropSource(t, user);
          changed = true;
        }
      }
    }
    if (next.size === 0) t.remote.delete(s.node);
    else t.remote.set(s.node, { members: next, expires: Date.now() + SILENT_PERIODS * s.every + 500 });
    if (changed) this.#changed(topic, t, false);
  }

  #addSource(t: TopicMembers, user: string): void {
    t.sources.set(user, (t.sources.get(user) ?? 0) + 1);
  }

  #dropSource(t: TopicMembers, user: string): void {
    const n = (t.sources.get(user) ?? 0) - 1;
    if (n > 0) t.sources.set(user, n);
    else t.sources.delete(user);
  }

  /** Something changed: one batch timer per topic sends frames (and this node's announcement when `local`). */
  #changed(topic: string, t: TopicMembers, local: boolean): void {
    if (local) t.dirty = true;
    if (t.timer || t.closed) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      if (t.dirty) this.#announce(topic, t);
      this.#flush(topic, t);
      this.#collect(topic, t);
    }, this.#deps.settings.batchMs);
    t.timer.unref();
  }

  #announce(topic: string, t: TopicMembers): void {
    t.dirty = false;
    this.stats.announcements++;
    this.#deps.plane.announce(this.#state(topic, t));
  }

  #state(topic: string, t: TopicMembers): MemberState {
    const members: MemberEntry[] = [];
    for (const [user, m] of t.local) members.push(memberOf(user, m.info));
    return { node: this.#deps.nodeId, topic, members, every: this.#deps.settings.heartbeatMs };
  }

  /** Sends the difference between what readers were told and the merged view now. */
  #flush(topic: string, t: TopicMembers): void {
    if (t.ready === undefined) return;
    const now = this.#merged(t);
    if (t.readers.size === 0) {
      t.shown = now;
      return;
    }
    const join: PresenceMember[] = [];
    const leave: string[] = [];
    for (const [user, info] of now) if (!t.shown.has(user)) join.push(memberOf(user, info));
    for (const user of t.shown.keys()) if (!now.has(user)) leave.push(user);
    t.shown = now;
    if (join.length === 0 && leave.length === 0) return;
    const frame: PresenceFrame = { op: 'presence', ch: TOPIC_PREFIX + topic, ...(join.length > 0 ? { join } : {}), ...(leave.length > 0 ? { leave } : {}) };
    for (const st of t.readers) this.#deps.send(st, frame);
    this.stats.framesSent += t.readers.size;
    this.stats.joinsSent += join.length * t.readers.size;
    this.stats.leavesSent += leave.length * t.readers.size;
  }

  /** Every member once; `info` from the lowest node id listing the user, so every node shows the same. */
  #merged(t: TopicMembers): Map<string, Readonly<Record<string, unknown>> | undefined> {
    const out = new Map<string, Readonly<Record<string, unknown>> | undefined>();
    for (const user of t.sources.keys()) {
      const local = t.local.get(user);
      let from = local ? this.#deps.nodeId : undefined;
      let info = local?.info;
      for (const [node, n] of t.remote) {
        if ((from === undefined || node < from) && n.members.has(user)) {
          from = node;
          info = n.members.get(user);
        }
      }
      out.set(user, info);
    }
    return out;
  }

  /** A topic nobody here holds any more (and no grace runs) is forgotten; the others drop this node. */
  #collect(topic: string, t: TopicMembers): void {
    if (t.local.size > 0 || t.readers.size > 0 || t.timer) return;
    t.closed = true;
    t.unwatch?.();
    this.#topics.delete(topic);
  }

  /** Every period: announce every held list, drop silent nodes. */
  #heartbeat(): void {
    const now = Date.now();
    for (const [topic, t] of this.#topics) {
      if (t.local.size === 0 && t.readers.size === 0 && !t.timer) {
        // Followed for an `admit` that did not end in a subscription.
        this.#collect(topic, t);
        continue;
      }
      if (t.local.size > 0) this.#announce(topic, t);
      let dropped = false;
      for (const [node, n] of t.remote) {
        if (n.expires > now) continue;
        for (const user of n.members.keys()) this.#dropSource(t, user);
        t.remote.delete(node);
        dropped = true;
      }
      if (dropped) this.#changed(topic, t, false);
    }
  }
}

function topicOf(channel: string): string | undefined {
  return channel.startsWith(TOPIC_PREFIX) ? channel.slice(TOPIC_PREFIX.length) : undefined;
}

function memberOf(user: string, info: Readonly<Record<string, unknown>> | undefined): PresenceMember {
  return info === undefined ? { user } : { user, info };
}
