/**
 * Streams one subject of a stream in seq order from a start seq, for readers of more than a
 * few messages on nats-server 2.9 (no batch direct get, no multi-filter consumers): a
 * short-lived push consumer (ephemeral, memory, R1, ack none, filtered to the subject) is
 * created, its messages handed over, and it is deleted. Each message's ack subject carries its
 * seq, store time and the count still pending, so the end is known without waiting for an
 * idle timeout. Used by the history reader here and by the inbox store (@herald/inbox), as is
 * the read of a subject's newest messages from the stream leader.
 * @module
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type JetStreamManager, type MsgRequest, type StoredMsg } from '@nats-io/jetstream';

/** One message of the range: return false to stop reading. */
export type SubjectRangeVisit = (seq: number, msg: Msg, storedMs: number) => boolean;

export interface SubjectRangeOptions {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** The whole read, consumer creation included, must end within this many ms. */
  readonly timeoutMs: number;
  /** Deliver headers only (`Nats-Msg-Size` instead of the body). */
  readonly headersOnly?: boolean;
  /** The error the read fails with when it takes over timeoutMs (each caller has its own error type). */
  readonly timeoutError: () => Error;
  /** The error the read fails with when the consumer cannot be created. */
  readonly consumerError: (cause: unknown) => Error;
}

/** Inactive consumers are removed by the server after this long (ns), should our delete be lost. */
const INACTIVE_THRESHOLD_NS = 10_000_000_000;

/**
 * Visits the subject's messages with seq ≥ startSeq in order until `visit` returns false or none
 * remain. Rejects with the caller's errors (timeout, consumer), or with what `visit` threw.
 */
export async function readSubjectRange(o: SubjectRangeOptions, subject: string, startSeq: number, visit: SubjectRangeVisit): Promise<void> {
  const { nc, jsm, stream, timeoutMs } = o;
  let received = 0;
  let done = false;
  let finish: (err?: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  // The timeout or a subscription error can settle it before it is awaited below: without
  // a handler that would be an unhandled rejection, which ends the process.
  finished.catch(() => undefined);
  const sub: Subscription = nc.subscribe(createInbox(), {
    callback: (err, m) => {
      if (err) return finish(err);
      if (done || m.headers?.code) return; // status messages (none expected: no heartbeats, no flow control)
      const ack = parseAckSubject(m.reply ?? '');
      if (!ack) return finish(new Error(`unexpected consumer reply subject ${m.reply ?? ''}`));
      received++;
      let more: boolean;
      try {
        more = visit(ack.seq, m, ack.storedMs);
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
  const timer = setTimeout(() => finish(o.timeoutError()), timeoutMs);
  let consumer: string | undefined;
  let over = false;
  // Not awaited on its own: the read's timeout must hold even while JetStream is slow to
  // create the consumer (a reconnect storm creates many). The add settles `finished` only
  // through `finish`; a consumer created after the read gave up is deleted right away.
  jsm.consumers
    .add(stream, {
      deliver_subject: sub.getSubject(),
      filter_subject: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startSeq,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      ...(o.headersOnly === true ? { headers_only: true } : {}),
      inactive_threshold: INACTIVE_THRESHOLD_NS,
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
      (err: unknown) => finish(o.consumerError(err)),
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

/**
 * Seq, store time and pending count from a JetStream ack subject:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts ns>.<pending>` (2.9), or the
 * newer form with `<domain>.<account hash>` before the stream and a token after.
 */
export function parseAckSubject(reply: string): { seq: number; storedMs: number; pending: number } | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
  if (base < 0) return undefined;
  const seq = Number(t[base + 3]);
  const pending = Number(t[base + 6]);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(pending)) return undefined;
  return { seq, storedMs: Math.floor(Number(t[base + 5]) / 1e6), pending };
}

/** Messages read from the leader after a replica's end, at most (a subject holds at most the stream's per-subject limit). */
export const MAX_LEADER_READS = 10_000;

/** Thrown by {@link readFromLeader} past `MAX_LEADER_READS` messages: the replica lags too far; fail the read. */
export class LeaderReadLimitError extends Error {
  constructor(subject: string) {
    super(`a replica lags over ${MAX_LEADER_READS} messages of ${subject}`);
    this.name = 'LeaderReadLimitError';
  }
}

/**
 * Visits the subject's messages with seq ≥ startSeq from the stream leader (`STREAM.MSG.GET`
 * with `next_by_subj`), in order, until the leader has none or `visit` returns false. For the
 * end of a read the replicas answered (direct gets, a consumer that may sit on one): a replica
 * lags the leader by what it has not applied yet, for a while after a restart by many
 * messages. One round trip when nothing lags. Rejects with what the request rejects with (no
 * leader, timeout) or {@link LeaderReadLimitError}; each caller decides what that means.
 */
export async function readFromLeader(jsm: JetStreamManager, stream: string, subject: string, startSeq: number, visit: (m: StoredMsg) => boolean): Promise<void> {
  let cursor = startSeq;
  for (let i = 0; i <= MAX_LEADER_READS; i++) {
    // nats-server takes next_by_subj on STREAM.MSG.GET since 2.9 (as on direct get); the client's type omits it.
    const m = await jsm.streams.getMessage(stream, { seq: cursor, next_by_subj: subject } as MsgRequest);
    if (m === null) return;
    if (i === MAX_LEADER_READS) break;
    if (!visit(m)) return;
    cursor = m.seq + 1;
  }
  throw new LeaderReadLimitError(subject);
}
