/**
 * Walks one subject of the inbox stream in seq order (nats-server 2.9: no batch direct get, no
 * multi-filter consumers). The first few messages come from direct gets (`next_by_subj`, one
 * round trip each, no server state): enough for the common read of a handful of messages.
 * When more remain, a short-lived push consumer (ephemeral, memory, R1, ack none, filtered to
 * the subject) streams the rest and is deleted; its ack subjects carry each message's seq and
 * the count still pending, so the end is known without waiting (readSubjectRange of
 * @herald/bus, which its history reader uses too).
 *
 * Direct gets are answered by any replica and the consumer may sit on one; a replica lags the
 * leader by the messages it has not applied yet (for a while after a restart, by many). So a
 * walk that reaches the end asks the stream leader (`STREAM.MSG.GET`) for anything after the
 * last message seen, until the leader has none: one extra round trip when nothing lags, and
 * every acknowledged append is seen (read your writes; a receipt's range is complete).
 * @module
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { readFromLeader, readSubjectRange } from '@herald/bus';
import { InboxError } from './types.js';

/** Direct gets before switching to a consumer. */
export const DIRECT_GETS = 4;

/** Called per message in order; return false to stop the walk. */
export type Visit = (seq: number, data: Uint8Array, headers: MsgHdrs | undefined) => boolean;

export interface ReaderOptions {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly timeoutMs: number;
  /** Counts messages a replica had not applied yet, read from the leader instead (a lagging replica answered). */
  readonly stats: { lagReads: number };
}

export class SubjectReader {
  readonly #o: ReaderOptions;

  constructor(options: ReaderOptions) {
    this.#o = options;
  }

  /** Visits the subject's messages with seq ≥ startSeq in order, until `visit` says stop or none remain. */
  async walk(subject: string, startSeq: number, visit: Visit, headersOnly = false): Promise<void> {
    let cursor = Math.max(1, startSeq);
    let stopped = false;
    const track: Visit = (seq, data, headers) => {
      cursor = seq + 1;
      stopped = !visit(seq, data, headers);
      return !stopped;
    };
    let replicaEnded = false;
    for (let i = 0; i < DIRECT_GETS && !replicaEnded; i++) {
      const r = await this.#direct(cursor, subject);
      if (r === null) replicaEnded = true;
      else {
        const seq = Number(r.headers?.get('Nats-Sequence'));
        if (!Number.isSafeInteger(seq) || seq < cursor) throw new InboxError('unavailable', 'direct get answered without a sequence');
        if (!track(seq, r.data, r.headers)) return;
      }
    }
    if (!replicaEnded) {
      await this.#consume(subject, cursor, track, headersOnly);
      if (stopped) return;
    }
    await this.#fromLeader(subject, cursor, track);
  }

  async #direct(seq: number, subject: string): Promise<Msg | null> {
    let r: Msg;
    try {
      r = await this.#o.nc.request(`$JS.API.DIRECT.GET.${this.#o.stream}`, JSON.stringify({ seq, next_by_subj: subject }), { timeout: this.#o.timeoutMs });
    } catch (err) {
      throw new InboxError('unavailable', 'inbox read failed', { cause: err });
    }
    const code = r.headers?.code ?? 0;
    if (code === 404) return null;
    if (code !== 0 && code !== 200) throw new InboxError('unavailable', `inbox direct get failed: ${code} ${r.headers?.description ?? ''}`);
    return r;
  }

  #consume(subject: string, startSeq: number, visit: Visit, headersOnly: boolean): Promise<void> {
    const { nc, jsm, stream, timeoutMs } = this.#o;
    return readSubjectRange({
      nc, jsm, stream, timeoutMs, headersOnly,
      timeoutError: () => new InboxError('unavailable', `inbox read of ${subject} took over ${timeoutMs} ms`),
      consumerError: (err) => new InboxError('unavailable', 'inbox read consumer failed', { cause: err }),
    }, subject, startSeq, (seq, m) => visit(seq, m.data, m.headers));
  }

  /** Reads on from the leader after where a replica ended, until the leader has nothing newer. */
  async #fromLeader(subject: string, startSeq: number, visit: Visit): Promise<void> {
    try {
      await readFromLeader(this.#o.jsm, this.#o.stream, subject, startSeq, (m) => {
        this.#o.stats.lagReads++;
        return visit(m.seq, m.data, m.header);
      });
    } catch (err) {
      if (err instanceof InboxError) throw err;
      throw new InboxError('unavailable', 'inbox read from the stream leader failed', { cause: err });
    }
  }
}
