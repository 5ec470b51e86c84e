/** The one join sequence: start capturing → acquire bus interest → read history → apply (corked) → undo on failure. */
import type { ConnState } from '../conn/state.js';
import type { Interest } from './interest.js';
import type { Recovery, RecoveryBuffer, RecoveryPlan } from './recovery.js';

/** A recovery request for one channel: what the client holds. */
export interface Resume {
  readonly since: number;
  readonly epoch: string | undefined;
}

/** One channel a connection joins. */
export interface JoinTarget {
  readonly channel: string;
  /** Recover from here; undefined: the channel just goes live. */
  readonly resume: Resume | undefined;
  /** The connection already holds the channel's interest reference (a re-recovery): nothing is acquired. */
  readonly held?: boolean;
}

/** What the caller decides around the sequence. */
export interface JoinSteps {
  /**
   * Who owns the interest references taken until `ready`: true, the join (it releases them on
   * undo); false, the connection's bookkeeping already (a topic in `st.channels`, whose remover
   * releases it).
   */
  readonly owned: boolean;
  /** Asked after the awaits: false when the join is no longer wanted (gone, draining, unsubscribed): undo. */
  wanted(): boolean;
  /** Synchronous, before the live step: registers the connection and takes the references over from the join. */
  ready?(recovered: readonly boolean[]): void;
  /** First inside the corked live step (`welcome`, the start of a stream). */
  live?(recovered: readonly boolean[]): void;
}

/** `recovered` per target (false for one that did not ask); or why the join did not happen (nothing is held then). */
export type JoinOutcome =
  | { readonly ok: true; readonly recovered: readonly boolean[] }
  | { readonly ok: false; readonly reason: 'bus'; readonly err: unknown }
  | { readonly ok: false; readonly reason: 'gone' };

export interface JoinDeps {
  readonly interest: Pick<Interest, 'acquire' | 'release'>;
  readonly recovery: Pick<Recovery, 'begin' | 'read' | 'apply' | 'release' | 'end'>;
}

interface Part {
  readonly target: JoinTarget;
  readonly buf: RecoveryBuffer | undefined;
  plan: RecoveryPlan | undefined;
}

/**
 * Used by the WebSocket `sub`, the personal channel at open, and an SSE stream's start. The
 * capture of live messages starts before the bus subscription, so no live message falls between
 * the two; the replay, the flush of captured messages and the native subscription happen in one
 * corked synchronous step after `ready` and `live`, so nothing slips in between either.
 */
export class Join {
  readonly #deps: JoinDeps;

  constructor(deps: JoinDeps) {
    this.#deps = deps;
  }

  async run(st: ConnState, targets: readonly JoinTarget[], steps: JoinSteps): Promise<JoinOutcome> {
    const { interest, recovery } = this.#deps;
    const parts: Part[] = targets.map((target) => ({
      target, buf: target.resume === undefined ? undefined : recovery.begin(st, target.channel, target.resume.since), plan: undefined,
    }));
    const acquired = await Promise.allSettled(parts.map((p) => (p.target.held === true ? undefined : interest.acquire(p.target.channel))));
    const failed = acquired.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      this.#undo(parts, steps.owned ? acquired : []);
      return { ok: false, reason: 'bus', err: failed.reason };
    }
    await Promise.all(parts.map(async (p) => {
      const r = p.target.resume;
      if (r !== undefined) p.plan = await recovery.read(p.target.channel, r.since, r.epoch); // never rejects
    }));
    if (!steps.wanted()) {
      this.#undo(parts, steps.owned ? acquired : []);
      return { ok: false, reason: 'gone' };
    }
    return { ok: true, recovered: this.#goLive(st, parts, steps) };
  }

  /** Synchronous: hand over, then corked: `live`, each channel's replay and flush, or its native subscription. */
  #goLive(st: ConnState, parts: readonly Part[], steps: JoinSteps): boolean[] {
    const recovered = parts.map((p) => p.buf !== undefined && p.plan !== undefined && p.plan.ok && !p.buf.overflow);
    steps.ready?.(recovered);
    const ws = st.ws;
    if (st.closed || ws === undefined) {
      for (const p of parts) if (p.buf !== undefined) this.#deps.recovery.end(p.buf);
      return recovered;
    }
    ws.cork(() => {
      steps.live?.(recovered);
      for (const p of parts) {
        if (p.buf !== undefined && p.plan !== undefined) this.#deps.recovery.apply(p.buf, p.plan);
        else if (!st.closed) ws.subscribe(p.target.channel);
      }
    });
    // A buffer still catching up with the live stream stays (Recovery.release keeps it).
    for (const p of parts) if (p.buf !== undefined) this.#deps.recovery.release(p.buf);
    return recovered;
  }

  /** Stops every capture and gives back the references the join took (`acquired`, when it owns them). */
  #undo(parts: readonly Part[], acquired: readonly PromiseSettledResult<unknown>[]): void {
    for (const p of parts) if (p.buf !== undefined) this.#deps.recovery.end(p.buf);
    acquired.forEach((r, i) => {
      const p = parts[i];
      if (r.status === 'fulfilled' && p !== undefined && p.target.held !== true) this.#deps.interest.release(p.target.channel);
    });
  }
}
