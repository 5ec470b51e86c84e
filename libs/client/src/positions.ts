/**
 * What the client holds of each channel: the last seq delivered, and the epoch they belong
 * to. Decides, per message, deliver / duplicate / gap (PROTOCOL §3), builds `since` maps
 * and the SSE `Last-Event-ID`.
 * @module
 */
import { decodeBase64Url, encodeBase64Url } from './encoding.js';

/** @internal The positions in an SSE event id of `epoch`; empty for another epoch or an unreadable id. */
export function readEventId(id: string | undefined, epoch: string | undefined): Record<string, number> {
  const at = id?.lastIndexOf('~') ?? -1;
  if (id === undefined || at < 0 || id.slice(0, at) !== epoch) return {};
  try {
    const v: unknown = JSON.parse(decodeBase64Url(id.slice(at + 1)));
    return typeof v === 'object' && v !== null ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

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

  /**
   * The SSE event id of the contract, `<epoch>~<b64url(JSON {channel: seq})>`: the positions
   * held, over `base` (the server's last id); undefined when there is nothing to resume from.
   */
  eventId(base: Readonly<Record<string, number>> = {}): string | undefined {
    const all = { ...base, ...Object.fromEntries(this.#seq) };
    if (this.epoch === undefined || Object.keys(all).length === 0) return undefined;
    return `${this.epoch}~${encodeBase64Url(JSON.stringify(all))}`;
  }
}
