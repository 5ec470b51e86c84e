/** Publishes validated commands through the bus: in order, pipelined, stopping at the first failure. */
import type { Bus, MessageTrace, PublishRequest, PublishResult } from '@herald/bus';
import type { PublishCommand } from './validate.js';

/** Raised when a publish failed; says how many were acknowledged before it. */
export class PublishFailure extends Error {
  /** Publishes acknowledged before (or while) the failure happened. */
  readonly stored: number;
  /** Publishes this request needed. */
  readonly total: number;
  constructor(stored: number, total: number, cause: unknown) {
    super('publish failed', { cause });
    this.name = 'PublishFailure';
    this.stored = stored;
    this.total = total;
  }
}

/** Channel publishes a list of commands expands to. */
export function countTargets(commands: readonly PublishCommand[]): number {
  let n = 0;
  for (const c of commands) n += c.channels.length;
  return n;
}

/**
 * Publishes every (command, channel) pair and resolves with the results, grouped per
 * command in input order. Publishes are *issued* strictly in input order, so two
 * messages of a batch for the same channel get increasing seqs in batch order (the bus
 * keeps per-connection order), with at most `concurrency` in flight. On the first
 * failure no new publish is issued; the ones in flight are awaited (so nothing settles
 * unobserved) and a PublishFailure is thrown.
 */
export function publishAll(bus: Bus, commands: readonly PublishCommand[], concurrency: number, trace?: MessageTrace): Promise<PublishResult[][]> {
  const single = commands.length === 1 ? (commands[0] as PublishCommand) : undefined;
  // The common case (one message, one channel): one promise reaction, no async frames.
  if (single !== undefined && single.channels.length === 1) return bus.publish(requestOf(single.channels[0] as string, single, trace)).then(oneResult, oneFailure);
  return publishMany(bus, commands, concurrency, trace);
}

const oneResult = (r: PublishResult): PublishResult[][] => [[r]];
const oneFailure = (err: unknown): never => {
  throw new PublishFailure(0, 1, err);
};

async function publishMany(bus: Bus, commands: readonly PublishCommand[], concurrency: number, trace: MessageTrace | undefined): Promise<PublishResult[][]> {
  const results: PublishResult[][] = commands.map((c) => new Array<PublishResult>(c.channels.length));
  const total = countTargets(commands);
  let stored = 0;
  let failure: unknown;
  let failed = false;
  const inFlight = new Set<Promise<void>>();
  outer: for (let i = 0; i < commands.length; i++) {
    const cmd = commands[i] as PublishCommand;
    for (let j = 0; j < cmd.channels.length; j++) {
      if (failed) break outer;
      const request = requestOf(cmd.channels[j] as string, cmd, trace);
      const p: Promise<void> = bus.publish(request).then(
        (r) => {
          (results[i] as PublishResult[])[j] = r;
          stored++;
        },
        (err: unknown) => {
          if (!failed) failure = err;
          failed = true;
        },
      );
      const tracked = p.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  if (failed) throw new PublishFailure(stored, total, failure);
  return results;
}

/** The bus request of one target; `id` and `trace` only when present (no undefined-valued keys). */
function requestOf(channel: string, cmd: PublishCommand, trace: MessageTrace | undefined): PublishRequest {
  const request = cmd.id === undefined ? { channel, data: cmd.data } : { channel, data: cmd.data, id: cmd.id };
  return trace === undefined ? request : { ...request, trace };
}
