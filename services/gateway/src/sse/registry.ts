/** Which SSE streams hold which channel: the fan-out's path to connections that are not uWS WebSockets. */
import type { Sender } from '../conn/send.js';
import type { ConnState } from '../conn/state.js';
import type { FanoutSink } from '../hub/fanout.js';

/**
 * channel → SSE connections live on it: the SSE transport's fan-out sink. uWS's app.publish
 * only reaches WebSockets, so the fan-out hands each message to this registry too, after the
 * native publish. A node without SSE streams pays one `size` check per message.
 */
export class SseRegistry implements FanoutSink {
  readonly #byChannel = new Map<string, Set<ConnState>>();
  readonly #sender: Pick<Sender, 'sendMsg'>;

  constructor(sender: Pick<Sender, 'sendMsg'>) {
    this.#sender = sender;
  }

  /** Channels with at least one SSE stream on them. */
  get size(): number {
    return this.#byChannel.size;
  }

  add(channel: string, st: ConnState): void {
    let set = this.#byChannel.get(channel);
    if (!set) {
      set = new Set();
      this.#byChannel.set(channel, set);
    }
    set.add(st);
  }

  remove(channel: string, st: ConnState): boolean {
    const set = this.#byChannel.get(channel);
    if (!set?.delete(st)) return false;
    if (set.size === 0) this.#byChannel.delete(channel);
    return true;
  }

  /** SSE streams live on `channel` (presence adds it to the native subscriber count). */
  count(channel: string): number {
    return this.#byChannel.get(channel)?.size ?? 0;
  }

  /**
   * Writes one message to every SSE stream of its channel; returns how many it reached.
   * The frame text is the one built for the native publish; each stream adds its own `id:`.
   * A stream closed meanwhile (slow consumer) leaves the set during the loop, which Set
   * iteration tolerates.
   */
  deliver(channel: string, seq: number, frame: string): number {
    if (this.#byChannel.size === 0) return 0;
    const set = this.#byChannel.get(channel);
    if (set === undefined) return 0;
    const n = set.size;
    for (const st of set) this.#sender.sendMsg(st, channel, seq, frame);
    return n;
  }
}
