/**
 * What the client holds of each channel: the last seq delivered (a Map of channel → seq), and
 * the epoch they belong to. Decides, per message, deliver / duplicate / gap (PROTOCOL §3) and
 * builds `since` maps (the SSE event id is built from them in sse-kit.ts).
 * @module
 */
/** @internal */
export type Verdict = typeof DELIVER | typeof DUPLICATE | typeof GAP;
/** @internal */
export const DELIVER = 0;
/** @internal */
export const DUPLICATE = 1;
/** @internal */
export const GAP = 2;

/** @internal Channel → last seq delivered; `delete` and `clear` also end the recoveries in flight. */
export class Positions extends Map<string, number> {
  /** The epoch the seqs belong to (from `welcome`). */
  era: string | undefined;
  /** Channels with a recovery in flight: their gap messages are dropped until it answers. */
  readonly recovering = new Set<string>();

  /**
   * `duplicate`: seq not above the last held. `gap`: `prev` above the last held, so
   * something was missed. A channel with nothing held yet accepts any message.
   */
  check(ch: string, seq: number, prev: number): Verdict {
    const last = this.get(ch);
    return last === undefined ? DELIVER : seq <= last ? DUPLICATE : prev > last ? GAP : DELIVER;
  }

  override delete(ch: string): boolean {
    this.recovering.delete(ch);
    return super.delete(ch);
  }

  override clear(): void {
    super.clear();
    this.recovering.clear();
  }

  /** `{channel: seq}` for the given channels that have a position; undefined when none has. */
  sinceOf(channels: readonly string[]): Record<string, number> | undefined {
    let out: Record<string, number> | undefined;
    for (const ch of channels) {
      const seq = this.get(ch);
      if (seq !== undefined) (out ??= {})[ch] = seq;
    }
    return out;
  }
}
