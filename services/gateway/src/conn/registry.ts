/** The node's connection table: open sockets, per-user counts, and admission slots for upgrades in flight. */
import type { ConnState } from './state.js';
import { withItem, withoutItem } from './exact-list.js';

/** Told of every connection that opens and closes on this node, whatever its transport (lifecycle events, docs/events.md). */
export interface ConnectionObserver {
  opened(st: ConnState): void;
  /** `code`: the close code the connection ended with. */
  closed(st: ConnState, code: number): void;
}

interface UserEntry {
  /** Admitted connections of the user: upgrades accepted but not yet open, plus open ones. */
  admitted: number;
  /**
   * Open connections of the user, replaced (never changed) on add and remove: most users hold one
   * or two, and an exact-size array is a fraction of a Set's memory; the per-user cap bounds it.
   */
  open: readonly ConnState[];
}

/**
 * Counts are taken when an upgrade is admitted, not when the socket opens: parallel
 * upgrades of one user (or a burst on a full node) cannot all pass the check before any
 * of them opens.
 */
export class Connections {
  /** Open connections (the keepalive sweep walks this set). */
  readonly open = new Set<ConnState>();
  readonly #users = new Map<string, UserEntry>();
  /** Upgrades between admission and the verdict on their token. */
  #verifying = 0;
  /** Admitted connections (upgrading after verify, or open). */
  #admitted = 0;

  constructor(
    readonly maxTotal: number,
    readonly maxPerUser: number,
    /** Absent: nobody is told. */
    readonly observer?: ConnectionObserver,
  ) {}

  /** True when the node can take one more upgrade (counts every admission in flight). */
  hasRoom(): boolean {
    return this.#verifying + this.#admitted < this.maxTotal;
  }

  /** An upgrade passed synchronous admission and awaits token verification. */
  beginVerify(): void {
    this.#verifying++;
  }

  endVerify(): void {
    this.#verifying--;
  }

  /** Reserves a slot for `sub`; false when the user is at the per-user limit. */
  reserve(sub: string): boolean {
    let u = this.#users.get(sub);
    if (!u) {
      u = { admitted: 0, open: [] };
      this.#users.set(sub, u);
    }
    if (u.admitted >= this.maxPerUser) return false;
    u.admitted++;
    this.#admitted++;
    return true;
  }

  /** Gives back a slot taken by `reserve` (failed upgrade, or close). */
  unreserve(sub: string): void {
    const u = this.#users.get(sub);
    if (!u) return;
    u.admitted--;
    this.#admitted--;
    if (u.admitted <= 0 && u.open.length === 0) this.#users.delete(sub);
  }

  /** The socket of a reserved connection opened. */
  add(st: ConnState): void {
    if (this.open.has(st)) return;
    this.open.add(st);
    const u = this.#users.get(st.sub);
    if (u) u.open = withItem(u.open, st);
    this.observer?.opened(st);
  }

  /** The socket closed (with `code`; 1005: none given): removes it and gives back its slot. */
  remove(st: ConnState, code = 1005): void {
    if (!this.open.delete(st)) return;
    const u = this.#users.get(st.sub);
    if (u) u.open = withoutItem(u.open, st);
    this.unreserve(st.sub);
    this.observer?.closed(st, code);
  }

  /** Open connections of a user (a snapshot: closing them replaces the table's list, not this one). */
  ofUser(sub: string): readonly ConnState[] {
    return this.#users.get(sub)?.open ?? [];
  }

  /** Number of open connections of a user. */
  countOfUser(sub: string): number {
    return this.#users.get(sub)?.open.length ?? 0;
  }

  get size(): number {
    return this.open.size;
  }

  get admitted(): number {
    return this.#admitted;
  }
}
