/**
 * Publishing commands of which some go to inboxes: those are appended to each target user's
 * inbox (in request order, one at a time per command), the others go through the bus as usual.
 */
import { BusError, type Bus, type PublishResult } from '@herald/bus';
import { inboxChannel, InboxError, type InboxStore } from '@herald/inbox';
import { USER_PREFIX } from '@herald/protocol';
import { PublishFailure, countTargets, publishAll } from '../publish/publish-all.js';
import type { PublishCommand } from '../publish/validate.js';

/** A result of an inbox append: the channel `inbox:<user>`, the inbox seq and the message id. */
export interface InboxPublishResult extends PublishResult {
  readonly id: string;
}

/**
 * Publishes `commands` in order. Bus commands go through publishAll (pipelined); inbox ones
 * are appended one by one. A failure stops the rest with a PublishFailure counting what was
 * stored, as publishAll does, so the 503 answer says the same.
 */
export async function publishWithInbox(
  bus: Bus, store: () => Promise<InboxStore>, commands: readonly PublishCommand[], concurrency: number, trace?: Parameters<typeof publishAll>[3],
): Promise<PublishResult[][]> {
  const total = countTargets(commands);
  const results: PublishResult[][] = [];
  let stored = 0;
  let run: PublishCommand[] = [];
  const flush = async (): Promise<void> => {
    if (run.length === 0) return;
    const batch = run;
    run = [];
    try {
      const out = await publishAll(bus, batch, concurrency, trace);
      results.push(...out);
      stored += countTargets(batch);
    } catch (err) {
      if (err instanceof PublishFailure) throw new PublishFailure(stored + err.stored, total, err.cause);
      throw err;
    }
  };
  for (const cmd of commands) {
    if (cmd.inbox === undefined) {
      run.push(cmd);
      continue;
    }
    await flush();
    const group: InboxPublishResult[] = [];
    try {
      const inbox = await store();
      for (const channel of cmd.channels) {
        const user = channel.slice(USER_PREFIX.length);
        const r = await inbox.append(user, {
          data: cmd.data, ...(cmd.id === undefined ? {} : { id: cmd.id }), ...(cmd.inbox.ttlMs === undefined ? {} : { ttlMs: cmd.inbox.ttlMs }),
        });
        group.push({ channel: inboxChannel(user), seq: r.seq, duplicate: r.duplicate, id: r.id });
        stored++;
      }
    } catch (err) {
      // an append that failed may still have been stored (an acknowledgement lost or late):
      // answered as a bus timeout, whose 503 says so and asks for a retry with the same id
      const cause = err instanceof InboxError && err.code === 'unavailable' ? new BusError('timeout', err.message, { cause: err }) : err;
      throw new PublishFailure(stored, total, cause);
    }
    results.push(group);
  }
  await flush();
  return results;
}
