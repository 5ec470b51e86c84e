/**
 * Inbound messages and subscription answers: dedupe by seq, gap detection by `prev` (a
 * `conflated` message's gap is accepted as it is),
 * dispatch to the personal channel or a topic's handlers, and the recovery outcomes
 * (`recovered: false` → the `unrecovered` event, and the channel starts afresh).
 * @module
 */
import { TOPIC_PREFIX as TOPIC } from '@herald/protocol';
import { DUPLICATE, GAP, Positions } from './positions.js';
import type { Subscriptions } from './subscriptions.js';
import type { InboundFrame } from './transport.js';
import type { HeraldMessage } from './types.js';


/** @internal */
export interface DeliveryHooks {
  user(message: HeraldMessage): void;
  unrecovered(channel: string): void;
  /** A gap on `channel`: ask the gateway for what was missed (once until answered). */
  recover(channel: string): void;
  refused(topic: string, code: string): void;
}

/** @internal */
export class Delivery {
  readonly positions = new Positions();
  /** `user:<sub>` of the current (or last) connection. */
  userChannel: string | undefined;
  readonly #subs: Subscriptions;
  readonly #hooks: DeliveryHooks;
  /** Channels subscribed with `rewind`: the replay before their ack, the newest `n` kept. */
  readonly #rewind = new Map<string, { n: number; buf: HeraldMessage[] }>();

  constructor(subs: Subscriptions, hooks: DeliveryHooks) {
    this.#subs = subs;
    this.#hooks = hooks;
  }

  /**
   * A new connection. Another epoch makes every held seq meaningless: those channels are
   * reported unrecovered and start afresh. `recovered: false` (the URL asked to recover the
   * personal channel and history no longer covers it) likewise for `user:<sub>`. `f`: a
   * WebSocket `welcome` (its `recovered` and `seq` are about the personal channel).
   */
  welcome(user: string, epoch: string, f?: InboundFrame): void {
    const pos = this.positions;
    const lost = new Set<string>();
    const userChannel = 'user:' + user;
    if (this.userChannel !== undefined && this.userChannel !== userChannel) pos.delete(this.userChannel);
    this.userChannel = userChannel;
    if (pos.era !== undefined && pos.era !== epoch) {
      for (const ch of [...pos.keys()]) lost.add(ch);
      pos.clear();
    }
    pos.era = epoch;
    pos.recovering.clear();
    this.#rewind.clear();
    if (f?.['recovered'] === false && pos.get(userChannel) !== undefined) {
      lost.add(userChannel);
      pos.delete(userChannel);
    }
    for (const ch of lost) this.#hooks.unrecovered(ch);
    // Holding nothing of the personal channel yet: start from its live position, so that a
    // reconnect before the first message still recovers what was published meanwhile.
    const seq = f?.['seq'];
    if (typeof seq === 'number' && pos.get(userChannel) === undefined) pos.set(userChannel, seq);
  }

  msg(f: InboundFrame): void {
    const { ch, seq, prev, ts } = f;
    if (typeof ch !== 'string' || typeof seq !== 'number') return;
    const isUser = ch === this.userChannel;
    const topic = ch.startsWith(TOPIC) ? ch.slice(TOPIC.length) : undefined;
    if (!isUser && (topic === undefined || !this.#subs.has(topic))) return;
    const conflated = f['conflated'] === true;
    const message: { -readonly [K in keyof HeraldMessage]: HeraldMessage[K] } = { ch, seq, data: f['data'], ts: typeof ts === 'number' ? ts : 0 };
    if (typeof f['id'] === 'string') message.id = f['id'];
    if (conflated) message.conflated = true;
    const rw = this.#rewind.get(ch);
    if (rw !== undefined) {
      // The replay of a rewind: in seq order; kept until the ack, bounded to the newest n.
      if (seq > (rw.buf.at(-1)?.seq ?? 0) && rw.buf.push(message) > rw.n) rw.buf.shift();
      return;
    }
    const verdict = this.positions.check(ch, seq, typeof prev === 'number' ? prev : 0);
    if (verdict === DUPLICATE) return;
    // A conflated message skips older ones on purpose (a conflated topic, the client fell
    // behind): the gap is no loss, so no recovery; the channel continues from its seq.
    if (verdict === GAP && !conflated) {
      // Not delivered: the recovery replays it after what was missed, in order.
      if (!this.positions.recovering.has(ch)) {
        this.positions.recovering.add(ch);
        this.#hooks.recover(ch);
      }
      return;
    }
    this.positions.set(ch, seq);
    if (isUser) this.#hooks.user(message);
    else this.#subs.dispatch(topic as string, message);
  }

  /** A `sub` asks for the retained history of `ch` (`since: 0`): keep the newest `n` of it until the ack. */
  replay(ch: string, n: number): void {
    this.#rewind.set(ch, { n, buf: [] });
  }

  /** The `ack` of a `sub`; `since` is what that `sub` asked to recover. */
  subAck(results: unknown, since: Readonly<Record<string, number>> | undefined): void {
    if (typeof results !== 'object' || results === null) return;
    for (const [ch, r] of Object.entries(results as Record<string, { ok?: unknown; recovered?: unknown; code?: unknown; seq?: unknown; conflate?: unknown }>)) {
      this.positions.recovering.delete(ch);
      const topic = ch.startsWith(TOPIC) ? ch.slice(TOPIC.length) : undefined;
      const rw = this.#rewind.get(ch);
      this.#rewind.delete(ch);
      if (r.ok === true) {
        for (const m of rw?.buf ?? []) {
          this.positions.set(ch, m.seq);
          this.#subs.dispatch(topic as string, m);
        }
        if (since?.[ch] !== undefined && r.recovered === false) this.lost(ch);
        // A channel with nothing held starts from the live position the ack tells (see welcome).
        if (typeof r.seq === 'number' && this.positions.get(ch) === undefined) this.positions.set(ch, r.seq);
        if (topic !== undefined) this.#subs.live(topic, r.conflate === true);
      } else if (topic !== undefined) {
        this.positions.delete(ch);
        const code = typeof r.code === 'string' ? r.code : 'refused';
        this.#subs.fail(topic, code);
        this.#hooks.refused(topic, code);
      }
    }
  }

  /** `recovered: false` for a channel: tell the app, start afresh (accept the next message whatever its prev). */
  lost(ch: string): void {
    this.positions.delete(ch);
    this.#hooks.unrecovered(ch);
  }

  /** A topic was left: its position goes too, so a later subscription does not replay old messages. */
  left(topic: string): void {
    this.positions.delete(TOPIC + topic);
  }
}
