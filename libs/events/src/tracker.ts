/**
 * The presence tracker of one node: local connection counts per user and subscriber counts per
 * topic, synchronised into the shared store. Each node writes only its own count of a key (the
 * absolute local value, so several local changes coalesce into one write and a lost write heals
 * on the next), and the store's compare-and-set decides transitions, so every transition happens
 * once in the whole cluster.
 *
 * Check after write (`verifyMs`): on nats-server before 2.9.21 the clustered
 * `Nats-Expected-Last-Subject-Sequence` check is not serialised (nats-server#4320): two CAS
 * writes against the same revision that are in flight together can both succeed, and the later
 * one, computed without the earlier, silently drops it (seen: a node's disconnect write
 * overwritten by another node's, its old count left in the entry, no `user.offline`). So every
 * key this node wrote is read again from the stream leader `verifyMs` later, and this node's slot
 * rewritten when it does not hold the local count. Two such writes land within one Raft round, far
 * below the delay.
 * @module
 */
import type { Logger } from '@herald/telemetry';
import { eventId, makeEvent, type AnyEvent } from './event.js';
import { topicKey, userKey } from './keys.js';
import { expire, syncCount, total, type PresenceValue } from './presence-state.js';
import type { EventPublisher, PresenceStore } from './store.js';

export interface TrackerOptions {
  /** This tracker incarnation's id in the store (unique per process start). */
  readonly incarnation: string;
  /** The node name put in connection events. */
  readonly node: string;
  readonly store: PresenceStore;
  readonly publisher: EventPublisher;
  /** How long a key stays up after its last connection is gone (HERALD_OFFLINE_GRACE_MS). */
  readonly graceMs: number;
  /** Publish `connection.opened` / `connection.closed` (opt-in: one event per connection). */
  readonly connectionEvents?: boolean;
  /** Re-read every written key this long after its write and repair this node's slot (0 or absent: off). */
  readonly verifyMs?: number;
  readonly logger?: Logger;
}

/** Pause after a failed store write before the next attempt (the local count stays the truth). */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/** Keys waiting for their check after write; beyond this a write is not checked (logged). */
const MAX_VERIFY = 100_000;

interface KeyState {
  running: boolean;
  dirty: boolean;
  /** The next sync reads the stored value from the leader instead of trusting this node's cache. */
  fresh: boolean;
  waiting: Array<() => void>;
}

export class PresenceTracker {
  readonly incarnation: string;
  readonly graceMs: number;
  private readonly options: TrackerOptions;
  private readonly counts = new Map<string, number>();
  private readonly states = new Map<string, KeyState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** key → when its check after write is due (ms since epoch). */
  private readonly verifyDue = new Map<string, number>();
  private verifyTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Checks after write that found this node's slot wrong and rewrote it (tests, logs). */
  repaired = 0;

  constructor(options: TrackerOptions) {
    this.options = options;
    this.incarnation = options.incarnation;
    this.graceMs = options.graceMs;
  }

  /** A connection of `user` opened on this node. Resolves once the store holds this node's count. */
  userConnected(user: string): Promise<void> {
    return this.change(userKey(user), 1);
  }

  userDisconnected(user: string): Promise<void> {
    return this.change(userKey(user), -1);
  }

  /** A connection subscribed to `topic` on this node. */
  topicSubscribed(topic: string): Promise<void> {
    return this.change(topicKey(topic), 1);
  }

  topicUnsubscribed(topic: string): Promise<void> {
    return this.change(topicKey(topic), -1);
  }

  /** `connection.opened`, when connection events are on. Ids are unique per incarnation and connection. */
  connectionOpened(user: string, connection: string): Promise<void> {
    if (!this.options.connectionEvents) return Promise.resolve();
    const id = eventId(this.incarnation, connection, 'opened');
    return this.emit(makeEvent('connection.opened', id, { user, connection, node: this.options.node }));
  }

  /** `connection.closed` with the close code, when connection events are on. */
  connectionClosed(user: string, connection: string, code: number): Promise<void> {
    if (!this.options.connectionEvents) return Promise.resolve();
    const id = eventId(this.incarnation, connection, 'closed');
    return this.emit(makeEvent('connection.closed', id, { user, connection, node: this.options.node, code }));
  }

  /** This node's count of a key (tests, metrics). */
  localCount(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Keys this node holds a count of. */
  get size(): number {
    return this.counts.size;
  }

  /**
   * Removes the counts of dead incarnations from every key and ends expired graces (the sweep a
   * surviving node runs when it notices a node died; all survivors may run it, CAS keeps one event).
   */
  async reap(isDead: (incarnation: string) => boolean): Promise<number> {
    let changed = 0;
    for (const key of await this.options.store.keys()) {
      if (this.closed) break;
      try {
        const value = await this.options.store.mutate(key, (v, now) => {
          const t = expire(v, isDead, now, this.graceMs);
          if (t) changed++;
          return t;
        }, { fresh: true });
        this.afterCommit(key, value);
      } catch (err) {
        this.options.logger?.warn({ err }, 'presence sweep: key left for the next sweep');
      }
    }
    return changed;
  }

  /** Writes every local count again (after this node was cut off from the store for longer than the grace). */
  resyncAll(): void {
    this.options.store.forget?.();
    for (const key of this.counts.keys()) void this.kick(key);
  }

  /**
   * Stops. With `release` (default) this node's counts are set to 0 first, so the grace of its
   * users starts now instead of after the liveness timeout; bounded by `timeoutMs`.
   */
  async close(options: { release?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    if (options.release ?? true) {
      const keys = [...this.counts.keys()];
      this.counts.clear();
      const released = Promise.all(keys.map((k) => this.kick(k)));
      await Promise.race([released, new Promise((r) => setTimeout(r, options.timeoutMs ?? 2000).unref())]);
    }
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    if (this.verifyTimer) clearTimeout(this.verifyTimer);
    this.verifyDue.clear();
    for (const st of this.states.values()) for (const w of st.waiting.splice(0)) w();
  }

  private emit(event: AnyEvent): Promise<void> {
    return this.options.publisher.publish(event).catch((err: unknown) => {
      this.options.logger?.warn({ err, type: event.type, id: event.id }, 'connection event not published');
    });
  }

  private change(key: string, delta: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    const next = Math.max(0, (this.counts.get(key) ?? 0) + delta);
    if (next > 0) this.counts.set(key, next);
    else this.counts.delete(key);
    return this.kick(key);
  }

  /** Schedules a sync of `key`; resolves once a sync that started after this call is done. */
  private kick(key: string, fresh = false): Promise<void> {
    let st = this.states.get(key);
    if (!st) {
      st = { running: false, dirty: false, fresh: false, waiting: [] };
      this.states.set(key, st);
    }
    const state = st;
    state.dirty = true;
    if (fresh) state.fresh = true;
    const done = new Promise<void>((resolve) => state.waiting.push(resolve));
    if (!state.running) void this.run(key, state);
    return done;
  }

  private async run(key: string, st: KeyState): Promise<void> {
    st.running = true;
    while (st.dirty && !this.closed) {
      st.dirty = false;
      const fresh = st.fresh;
      st.fresh = false;
      const waiters = st.waiting.splice(0);
      await this.syncOnce(key, fresh);
      for (const w of waiters) w();
    }
    st.running = false;
    for (const w of st.waiting.splice(0)) w();
    if (!st.dirty) this.states.delete(key);
  }

  /** Writes this node's count of `key` until the store takes it (or the tracker closes). */
  private async syncOnce(key: string, fresh: boolean): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        let wrote = false;
        const value = await this.options.store.mutate(key, (v, now) => {
          const t = syncCount(v, this.incarnation, this.counts.get(key) ?? 0, now);
          wrote = t !== undefined;
          return t;
        }, fresh ? { fresh: true } : {});
        if (fresh && wrote) {
          this.repaired++;
          this.options.logger?.warn({ key }, 'presence check after write: this node\'s count was missing from the entry; written again');
        }
        // A check that found nothing to write needs no check of its own.
        if (wrote || !fresh) this.scheduleVerify(key);
        this.afterCommit(key, value);
        return;
      } catch (err) {
        if (attempt === 0) this.options.logger?.warn({ err }, 'presence write failed; retrying');
        const cap = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(attempt, 10));
        await new Promise((r) => setTimeout(r, Math.random() * cap).unref());
      }
    }
  }

  /** Queues the check after write of `key` (coalesced: one check per key per delay). */
  private scheduleVerify(key: string): void {
    const ms = this.options.verifyMs ?? 0;
    if (ms <= 0 || this.closed) return;
    if (!this.verifyDue.has(key) && this.verifyDue.size >= MAX_VERIFY) {
      this.options.logger?.warn({ pending: this.verifyDue.size }, 'presence check after write skipped: queue full');
      return;
    }
    this.verifyDue.delete(key);
    this.verifyDue.set(key, Date.now() + ms);
    if (!this.verifyTimer) {
      this.verifyTimer = setTimeout(() => this.runVerify(), ms);
      this.verifyTimer.unref();
    }
  }

  /** Runs the due checks (insertion order is due order) and re-arms for the next one. */
  private runVerify(): void {
    this.verifyTimer = undefined;
    if (this.closed) return;
    const now = Date.now();
    for (const [key, due] of this.verifyDue) {
      if (due > now) {
        this.verifyTimer = setTimeout(() => this.runVerify(), due - now);
        this.verifyTimer.unref();
        return;
      }
      this.verifyDue.delete(key);
      void this.kick(key, true);
    }
  }

  /** After a write: a key at 0 within its grace gets a timer that ends the grace (on this node). */
  private afterCommit(key: string, value: PresenceValue | undefined): void {
    const old = this.timers.get(key);
    if (value === undefined || !value.on || value.gone === undefined || total(value) > 0) {
      if (old) {
        clearTimeout(old);
        this.timers.delete(key);
      }
      return;
    }
    if (old || this.closed) return;
    const delay = Math.max(0, value.gone + this.graceMs - Date.now());
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void this.expireKey(key);
    }, delay + 1);
    timer.unref();
    this.timers.set(key, timer);
  }

  private async expireKey(key: string): Promise<void> {
    if (this.closed) return;
    try {
      const value = await this.options.store.mutate(key, (v, now) => expire(v, () => false, now, this.graceMs), { fresh: true });
      this.afterCommit(key, value);
    } catch (err) {
      // Another node's sweep, or this node's next write of the key, ends the grace instead.
      this.options.logger?.warn({ err }, 'presence grace check failed');
    }
  }
}
