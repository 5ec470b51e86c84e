/** Joins and leaves one connection to channels: bus interest, optional recovery, native subscription. */
import { addChannel, removeChannel, type ConnState } from '../conn/state.js';
import { EMPTY } from '../conn/exact-list.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Conflation } from './conflation.js';
import type { Interest } from './interest.js';
import type { Join, Resume } from './join.js';
import type { Recovery } from './recovery.js';

export type { Resume } from './join.js';

export interface SubscriptionsDeps {
  readonly join: Pick<Join, 'run'>;
  readonly interest: Pick<Interest, 'release'>;
  readonly recovery: Pick<Recovery, 'cancel'>;
  readonly metrics: Pick<GatewayMetrics, 'subscriptions'>;
  /** Told of every channel added to or removed from `st.channels`; absent: no conflation. */
  readonly conflation?: Pick<Conflation, 'joined' | 'left' | 'reset' | 'releaseAll'>;
  /** Told of every topic channel added to or removed from a connection's set (topic occupancy, docs/events.md); absent: nobody. */
  readonly topics?: TopicObserver;
}

/** Once per connection and topic channel held: `joined` when it enters `st.channels`, `left` when it leaves. */
export interface TopicObserver {
  joined(channel: string, st: ConnState): void;
  left(channel: string, st: ConnState): void;
}

/** One observer telling several (absent ones skipped); `undefined` when there are none. */
export function topicObservers(...observers: readonly (TopicObserver | undefined)[]): TopicObserver | undefined {
  const list = observers.filter((o): o is TopicObserver => o !== undefined);
  if (list.length <= 1) return list[0];
  return {
    joined: (channel, st) => { for (const o of list) o.joined(channel, st); },
    left: (channel, st) => { for (const o of list) o.left(channel, st); },
  };
}

/**
 * Ownership rule: a connection holds one interest reference per channel in `st.channels`
 * (plus its personal channel while `st.personalHeld`). Whoever removes a channel from the set
 * releases that reference, exactly once.
 */
export class Subscriptions {
  readonly #deps: SubscriptionsDeps;

  constructor(deps: SubscriptionsDeps) {
    this.#deps = deps;
  }

  /**
   * Subscribes `st` to a topic channel, or re-recovers a channel it already holds (the
   * personal one included) when `resume` is given. Resolves with `recovered` once the channel
   * is live for the socket; rejects when the bus subscription fails.
   */
  async join(st: ConnState, channel: string, resume?: Resume): Promise<boolean> {
    const held = channel === st.userChannel || st.channels.includes(channel);
    if (held && resume === undefined) return false;
    // A recovery takes over delivery of a channel the connection may be paused on.
    if (held) this.#deps.conflation?.reset(st, channel);
    else {
      // The channel set owns the reference from here: an unsub or close meanwhile releases it.
      addChannel(st, channel);
      this.#deps.conflation?.joined(st, channel);
      this.#deps.topics?.joined(channel, st);
      this.#deps.metrics.subscriptions.inc();
    }
    const out = await this.#deps.join.run(st, [{ channel, resume, held }], { owned: false, wanted: () => this.#stillWanted(st, channel) });
    if (out.ok) return out.recovered[0] === true;
    if (out.reason === 'gone') return false;
    // The failed acquire holds no reference; only take the channel back if nobody else did.
    if (removeChannel(st, channel)) {
      this.#deps.conflation?.left(st, channel);
      this.#deps.topics?.left(channel, st);
      this.#deps.metrics.subscriptions.dec();
    }
    throw out.err;
  }

  /** Unsubscribes `st` from a topic channel; false when it did not hold it. */
  leave(st: ConnState, channel: string): boolean {
    if (!removeChannel(st, channel)) return false;
    this.#deps.conflation?.left(st, channel);
    this.#deps.topics?.left(channel, st);
    this.#deps.recovery.cancel(st, channel);
    if (!st.closed) st.ws?.unsubscribe(channel);
    this.#deps.interest.release(channel);
    this.#deps.metrics.subscriptions.dec();
    return true;
  }

  /** `st` now holds the interest reference of its personal channel (taken by the go-live step or the SSE start). */
  openedPersonal(st: ConnState): void {
    st.personalHeld = true;
    this.#deps.metrics.subscriptions.inc();
  }

  /** The SSE start: `st` holds the topic channels among `channels` (their references were taken by its join). */
  openedTopics(st: ConnState, channels: readonly string[]): void {
    for (const ch of channels) {
      if (ch === st.userChannel || !addChannel(st, ch)) continue;
      this.#deps.topics?.joined(ch, st);
    }
  }

  /** The socket closed: gives back every reference (topics and the personal channel). Never touches the socket. */
  releaseAll(st: ConnState): void {
    const held = st.channels;
    st.channels = EMPTY;
    for (const channel of held) {
      this.#deps.recovery.cancel(st, channel);
      this.#deps.interest.release(channel);
      this.#deps.metrics.subscriptions.dec();
      this.#deps.topics?.left(channel, st);
    }
    this.#deps.conflation?.releaseAll(st);
    this.#deps.recovery.cancel(st, st.userChannel);
    // Before go-live completes, the reference (if any) is the go-live step's to give back (ws/lifecycle.ts).
    if (!st.personalHeld) return;
    st.personalHeld = false;
    this.#deps.interest.release(st.userChannel);
    this.#deps.metrics.subscriptions.dec();
  }

  #stillWanted(st: ConnState, channel: string): boolean {
    return !st.closed && st.ws !== undefined && (channel === st.userChannel || st.channels.includes(channel));
  }
}
