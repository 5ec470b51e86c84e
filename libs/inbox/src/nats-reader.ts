/**
 * Walks one subject of the inbox stream in seq order (nats-server 2.9: no batch direct get, no
 * multi-filter consumers). The first few messages come from direct gets (`next_by_subj`, one
 * round trip each, no server state): enough for the common read of a handful of messages.
 * When more remain, a short-lived push consumer (ephemeral, memory, R1, ack none, filtered to
 * the subject) streams the rest and is deleted; its ack subjects carry each message's seq and
 * the count still pending, so the end is known without waiting. The same scheme as the
 * history reader of @herald/bus.
 * @module
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
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

  async #consume(subject: string, startSeq: number, visit: Visit, headersOnly: boolean): Promise<void> {
    const { nc, jsm, stream, timeoutMs } = this.#o;
    let received = 0;
    let done = false;
    let finish: (err?: Error) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      finish = (err) => (err ? reject(err) : resolve());
    });
    finished.catch(() => undefined);
    const sub: Subscription = nc.subscribe(createInbox(), {
      callback: (err, m) => {
        if (err) return finish(err);
        if (done || m.headers?.code) return;
        const ack = parseAckSubject(m.reply ?? '');
        if (!ack) return finish(new Error(`unexpected consumer reply subject ${m.reply ?? ''}`));
        received++;
        let more: boolean;
        try {
          more = visit(ack.seq, m.data, m.headers);
        } catch (e) {
          done = true;
          return finish(e instanceof Error ? e : new Error(String(e)));
        }
        if (!more || ack.pending === 0) {
          done = true;
          finish();
        }
      },
    });
    const timer = setTimeout(() => finish(new InboxError('unavailable', `inbox read of ${subject} took over ${timeoutMs} ms`)), timeoutMs);
    let consumer: string | undefined;
    let over = false;
    jsm.consumers
      .add(stream, {
        deliver_subject: sub.getSubject(),
        filter_subject: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: startSeq,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        num_replicas: 1,
        headers_only: headersOnly,
        inactive_threshold: 10_000_000_000,
      })
      .then(
        (info) => {
          if (over) {
            jsm.consumers.delete(stream, info.name).catch(() => undefined);
            return;
          }
          consumer = info.name;
          if (received === 0 && info.num_pending === 0 && info.delivered.consumer_seq === 0) {
            done = true;
            finish();
          }
        },
        (err: unknown) => finish(new InboxError('unavailable', 'inbox read consumer failed', { cause: err })),
      );
    try {
      await finished;
    } finally {
      over = true;
      clearTimeout(timer);
      sub.unsubscribe();
      if (consumer !== undefined) jsm.consumers.delete(stream, consumer).catch(() => undefined);
    }
  }
}

/**
 * Seq and pending count from a JetStream ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.
 * <sseq>.<dseq>.<ts ns>.<pending>` (2.9), or the newer form with `<domain>.<account hash>`.
 */
export function parseAckSubject(reply: string): { seq: number; pending: number } | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const seq = Number(t[base + 3]);
  const pending = Number(t[base + 6]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(pending)) return undefined;
  return { seq, pending };
}
