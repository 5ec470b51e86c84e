/** Interest table: channel → local subscriber count; the only caller of Bus.subscribe/unsubscribe. */
import { BusError, type Bus, type MessageHandler } from '@herald/bus';
import type { Logger } from '@herald/telemetry';

export interface InterestDeps {
  readonly bus: Pick<Bus, 'subscribe' | 'unsubscribe'>;
  /** Receives every message of every channel with interest (the fan-out). */
  readonly onMessage: MessageHandler;
  /** UNSUBSCRIBE_LINGER_MS. */
  readonly lingerMs: number;
  /** The `hub` component logger. */
  readonly log: Logger;
  /** Called with the number of channels with bus interest whenever it changes (metrics). */
  readonly onCount?: (channels: number) => void;
}

/** The `ready` of every entry whose subscription is confirmed: one settled promise for all, not one per channel. */
const SUBSCRIBED: Promise<void> = Promise.resolve();

interface Entry {
  /** Local holders (connections subscribed or being subscribed). */
  count: number;
  /** The bus subscription; every acquirer awaits the same promise (one bus.subscribe per channel). */
  ready: Promise<void>;
  /** Pending release after the last holder left. */
  timer: NodeJS.Timeout | undefined;
}

/**
 * Reference-counted bus interest (centrifuge's broker interest). 0→1 subscribes and keeps
 * the in-flight promise so concurrent acquirers share it; 1→0 unsubscribes after a linger
 * (a client flapping between pages does not churn the bus), cancelled if interest returns.
 */
export class Interest {
  readonly #deps: InterestDeps;
  readonly #entries = new Map<string, Entry>();
  /** Unsubscribes in flight: a new subscribe of the channel waits for it (the bus sees them in order). */
  readonly #unsubscribing = new Map<string, Promise<void>>();
  #closed = false;

  constructor(deps: InterestDeps) {
    this.#deps = deps;
  }

  /**
   * Takes one reference and resolves once the bus subscription is confirmed (live).
   * On rejection the reference is void: do not `release` it.
   */
  acquire(channel: string): Promise<void> {
    if (this.#closed) return Promise.reject(new BusError('closed', 'interest table closed'));
    let e = this.#entries.get(channel);
    if (e) {
      e.count++;
      if (e.timer !== undefined) {
        clearTimeout(e.timer);
        e.timer = undefined;
      }
    } else {
      const entry: Entry = { count: 1, ready: Promise.resolve(), timer: undefined };
      entry.ready = this.#subscribe(channel, entry);
      this.#entries.set(channel, entry);
      this.#changed();
      e = entry;
    }
    const entry = e;
    return entry.ready.then(undefined, (err: unknown) => {
      entry.count--;
      throw err;
    });
  }

  /** Gives back one reference taken by a successful `acquire`. */
  release(channel: string): void {
    const e = this.#entries.get(channel);
    if (!e || e.count <= 0) return;
    e.count--;
    if (e.count > 0) return;
    if (this.#deps.lingerMs === 0) {
      this.#drop(channel, e);
      return;
    }
    e.timer = setTimeout(() => this.#drop(channel, e), this.#deps.lingerMs);
    e.timer.unref();
  }

  /** Channels with bus interest (lingering ones included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Local references of a channel (0 while lingering or unknown). */
  count(channel: string): number {
    return this.#entries.get(channel)?.count ?? 0;
  }

  /** Releases every bus subscription now (drain and shutdown). Later acquires reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries];
    this.#entries.clear();
    this.#changed();
    for (const [channel, e] of entries) {
      if (e.timer !== undefined) clearTimeout(e.timer);
      this.#unsubscribe(channel, e);
    }
    await Promise.allSettled([...this.#unsubscribing.values()]);
  }

  #subscribe(channel: string, entry: Entry): Promise<void> {
    const before = this.#unsubscribing.get(channel) ?? Promise.resolve();
    return before
      .then(() => this.#deps.bus.subscribe(channel, this.#deps.onMessage))
      .then(() => {
        // settled: later acquirers get the shared promise (the per-channel one is garbage now)
        entry.ready = SUBSCRIBED;
      })
      .catch((err: unknown) => {
        // A failed subscription is forgotten, so the next acquire tries again.
        if (this.#entries.get(channel) === entry) {
          this.#entries.delete(channel);
          this.#changed();
        }
        this.#deps.log.warn({ err, channel }, 'bus subscribe failed');
        throw err;
      });
  }

  #drop(channel: string, e: Entry): void {
    if (this.#entries.get(channel) !== e || e.count > 0) return;
    this.#entries.delete(channel);
    this.#changed();
    this.#unsubscribe(channel, e);
  }

  #unsubscribe(channel: string, e: Entry): void {
    const p: Promise<void> = e.ready
      .then(
        () => this.#deps.bus.unsubscribe(channel),
        () => undefined, // never subscribed
      )
      .catch((err: unknown) => this.#deps.log.warn({ err, channel }, 'bus unsubscribe failed'))
      .finally(() => {
        if (this.#unsubscribing.get(channel) === p) this.#unsubscribing.delete(channel);
      });
    this.#unsubscribing.set(channel, p);
  }

  #changed(): void {
    this.#deps.onCount?.(this.#entries.size);
  }
}
