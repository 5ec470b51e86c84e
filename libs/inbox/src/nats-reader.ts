/**
 * Walks one subject of the inbox stream in seq order (nats-server 2.9: no batch direct get, no
 * multi-filter consumers). The first few messages come from direct gets (`next_by_subj`, one
 * round trip each, no server state): enough for the common read of a handful of messages.
 * When more remain, a short-lived push consumer (ephemeral, memory, R1, ack none, filtered to
 * the subject) streams the rest and is deleted; its ack subjects carry each message's seq and
 * the count still pending, so the end is known without waiting (readSubjectRange of
 * @herald/bus, which its history reader uses too).
 * @module
 */
import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import { readSubjectRange } from '@herald/bus';
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
}

export class SubjectReader {
  readonly #o: ReaderOptions;

  constructor(options: ReaderOptions) {
    this.#o = options;
  }

  /** Visits the subject's messages with seq ≥ startSeq in order, until `visit` says stop or none remain. */
  async walk(subject: string, startSeq: number, visit: Visit, headersOnly = false): Promise<void> {
    let cursor = Math.max(1, startSeq);
    for (let i = 0; i < DIRECT_GETS; i++) {
      const r = await this.#direct(cursor, subject);
      if (r === null) return;
      const seq = Number(r.headers?.get('Nats-Sequence'));
      if (!Number.isSafeInteger(seq) || seq < cursor) throw new InboxError('unavailable', 'direct get answered without a sequence');
      if (!visit(seq, r.data, r.headers)) return;
      cursor = seq + 1;
    }
    await this.#consume(subject, cursor, visit, headersOnly);
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
}
