/**
 * What the client holds of each channel: the last seq delivered, and the epoch they belong
 * to. Decides, per message, deliver / duplicate / gap (PROTOCOL §3) and builds `since` maps
 * (the SSE event id is built from them in sse-kit.ts).
 * @module
 */
/** @internal */
export type Verdict = 'deliver' | 'duplicate' | 'gap';

/** @internal */
export class Positions {
  /** The epoch the seqs belong to (from `welcome`). */
  epoch: string | undefined;
  readonly #seq = new Map<string, number>();
  /** Channels with a recovery in flight: their gap messages are dropped until it answers. */
  readonly recovering = new Set<string>();

  /**
   * `duplicate`: seq not above the last held. `gap`: `prev` above the last held, so
   * something was missed. A channel with nothing held yet accepts any message.
   */
  check(ch: string, seq: number, prev: number): Verdict {
    const last = this.#seq.get(ch);
    if (last === undefined) return 'deliver';
    if (seq <= last) return 'duplicate';
    return prev > last ? 'gap' : 'deliver';
  }

  advance(ch: string, seq: number): void {
    this.#seq.set(ch, seq);
  }

  get(ch: string): number | undefined {
    return this.#seq.get(ch);
  }

  forget(ch: string): void {
    this.#seq.delete(ch);
    this.recovering.delete(ch);
  }

  channels(): string[] {
    return [...this.#seq.keys()];
  }

  clear(): void {
    this.#seq.clear();
    this.recovering.clear();
  }

  /** `{channel: seq}` for the given channels that have a position; undefined when none has. */
  since(channels: readonly string[]): Record<string, number> | undefined {
    let out: Record<string, number> | undefined;
    for (const ch of channels) {
      const seq = this.#seq.get(ch);
      if (seq !== undefined) (out ??= {})[ch] = seq;
    }
    return out;
  }
}
