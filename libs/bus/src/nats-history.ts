/**
 * Reads one channel's history from the JetStream stream (nats-server 2.9: no batch
 * direct get, no multi-filter consumers).
 *
 * How: the first few messages come from direct gets (`next_by_subj`), one round trip
 * each, served by any replica and with no server-side state: that covers the common
 * reads (a reconnecting client or a gap repair missing a handful of messages). When
 * more remain, a short-lived push consumer (ephemeral, memory, R1, ack none, filtered
 * to the subject, starting after the last message read) streams the rest in one go,
 * and is deleted afterwards. Its ack subjects carry each message's seq and the count
 * still pending, so the end is known without waiting. A replica lags the leader by what it has
 * not applied yet, so a read that reaches the end asks the leader for anything newer
 * (docs/operations.md, stream settings).
 * @module
 */
import { Empty, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { BusMessage } from './bus.js';
import { BusError } from './errors.js';
import { HDR_ID, HDR_SEQ, HDR_SUBJECT, HDR_TIME, HDR_TS, parseNatsTime } from './nats-stream.js';
import { readFromLeader, readSubjectRange } from './nats-subject-range.js';

/**
 * Direct gets before switching to a consumer. Each is one round trip (0.2 to 0.8 ms on
 * the 2-core test box); a consumer costs about two plus server-side state, so reads of
 * up to three messages (plus the look-ahead that tells the end) stay stateless.
 */
export const DIRECT_GETS = 4;

/** A history page before the epoch is added. */
export interface RawPage {
  readonly messages: readonly BusMessage[];
  readonly complete: boolean;
  readonly truncated: boolean;
}

export interface HistoryReaderOptions {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  readonly timeoutMs: number;
}

/** Walks the held messages of one subject, tracking prev, up to limit + one look-ahead. */
class Walk {
  readonly messages: BusMessage[] = [];
  readonly channel: string;
  readonly since: number;
  readonly limit: number;
  /** Seq of the last message seen of the subject (taken or skipped). */
  prev: number;
  more = false;
  done = false;

  constructor(channel: string, since: number, limit: number, prev: number) {
    this.channel = channel;
    this.since = since;
    this.limit = limit;
    this.prev = prev;
  }

  /** Takes the next held message of the subject; returns false once the walk is done. */
  take(seq: number, data: string, h: MsgHdrs | undefined, storedMs: () => number): boolean {
    if (seq <= this.since) {
      this.prev = seq;
      return true;
    }
    if (this.messages.length === this.limit) {
      this.more = true;
      this.done = true;
      return false;
    }
    this.messages.push(toBusMessage(this.channel, seq, this.prev, data, h, storedMs));
    this.prev = seq;
    return true;
  }
}

/** Reads history and last seqs of subjects of one stream. */
export class HistoryReader {
  readonly #o: HistoryReaderOptions;
  /**
   * Reads in flight by (subject, since, limit). After a node dies its clients recover at
   * once, most of them from the same position of the same topic: they share one read
   * instead of each costing JetStream a consumer (a storm of consumers slows every read
   * past its timeout). Pages are immutable, so sharing them is safe.
   */
  readonly #inflight = new Map<string, Promise<RawPage>>();
  #lagReads = 0;
  #leaderMisses = 0;

  constructor(options: HistoryReaderOptions) {
    this.#o = options;
  }

  /** Messages a replica had not applied yet, read from the stream leader instead. */
  get lagReads(): number {
    return this.#lagReads;
  }

  /** Leader checks that got no answer (no leader, timeout) or stopped at MAX_LEADER_READS: the replica's answer stood. */
  get leaderMisses(): number {
    return this.#leaderMisses;
  }

  /** Number of distinct reads in flight (for tests). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** Seq of the newest held message of a subject, 0 when none. */
  async lastSeq(subject: string): Promise<number> {
    const r = await this.#o.nc.request(`$JS.API.DIRECT.GET.${this.#o.stream}.${subject}`, Empty, { timeout: this.#o.timeoutMs });
    if (r.headers?.code === 404) return 0;
    assertOk(r);
    return Number(r.headers?.get(HDR_SEQ) ?? 0);
  }

  /**
   * Messages of `subject` with seq > since, at most `limit`, in order.
   *
   * `prev` of the first message is the last held message of the subject at or
   * before `since` (0 if none): `since` itself when it is held for this subject
   * (the usual case). Otherwise the walk starts at the subject's first held message
   * and skips up to `since`: JetStream evicts a subject's messages oldest first (by
   * count and by age), so what it holds of a subject is a suffix of everything ever
   * stored there, and the skipped part is empty unless `since` is not a seq of this
   * channel at all.
   *
   * `complete` (nothing of the subject after `since` was evicted) holds when:
   * A. `since` itself is held for this subject: eviction is oldest first, so every
   *    later message of the subject is held too; or
   * B. the subject holds fewer than max_msgs_per_subject messages AND the stream's
   *    first_seq ≤ since + 1. Were a message m > since of the subject evicted by age,
   *    every older message would be gone too, so first_seq > m.seq ≥ since + 1. Were
   *    it evicted by count, the subject held the maximum right after; only age could
   *    lower the count since, which evicts a later message of the subject: same
   *    contradiction. B is conservative: other subjects moving first_seq, or a
   *    `since` that was evicted without loss after it, can answer false (the reader
   *    reloads its state), never a wrong true.
   */
  read(channel: string, subject: string, since: number, limit: number): Promise<RawPage> {
    const key = subject + ' ' + since + ' ' + limit;
    const shared = this.#inflight.get(key);
    if (shared !== undefined) return shared;
    const p = this.#read(channel, subject, since, limit).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #read(channel: string, subject: string, since: number, limit: number): Promise<RawPage> {
    let held = false;
    // The first message after `since` is fetched along with the check (it is the answer when `since` is held).
    let prefetched: Msg | null | undefined;
    if (since > 0) {
      const [at, next] = await Promise.all([this.#direct({ seq: since }), this.#direct({ seq: since + 1, next_by_subj: subject })]);
      held = at !== null ? at.headers?.get(HDR_SUBJECT) === subject : await this.#heldByLeader(since, subject);
      if (held) prefetched = next;
    }
    const walk = new Walk(channel, since, limit, held ? since : 0);
    const stateP = held ? undefined : this.#subjectState(subject);
    stateP?.catch(() => undefined); // awaited below; avoid an unhandled rejection while the walk runs
    let cursor = held ? since + 1 : 1;
    for (let i = 0; i < DIRECT_GETS && !walk.done; i++) {
      const r = i === 0 && prefetched !== undefined ? prefetched : await this.#direct({ seq: cursor, next_by_subj: subject });
      if (r === null) {
        walk.done = true;
        break;
      }
      const seq = Number(r.headers?.get(HDR_SEQ));
      cursor = seq + 1;
      walk.take(seq, r.string(), r.headers, () => parseNatsTime(r.headers?.get(HDR_TIME) ?? ''));
    }
    if (!walk.done) await this.#consume(subject, cursor, walk);
    if (!walk.more) await this.#fromLeader(subject, Math.max(cursor, walk.prev + 1), walk);
    let complete = held;
    if (stateP) {
      const s = await stateP;
      complete = s.count < s.maxPerSubject && s.firstSeq <= since + 1;
    }
    return { messages: walk.messages, complete, truncated: walk.more };
  }

  async #subjectState(subject: string): Promise<{ count: number; firstSeq: number; maxPerSubject: number }> {
    const info = await this.#o.jsm.streams.info(this.#o.stream, { subjects_filter: subject });
    const max = info.config.max_msgs_per_subject;
    return {
      count: info.state.subjects?.[subject] ?? 0,
      firstSeq: info.state.first_seq,
      maxPerSubject: max !== undefined && max > 0 ? max : Number.POSITIVE_INFINITY,
    };
  }

  /**
   * Reads on from the stream leader after where a replica's answers ended, until the leader has
   * nothing newer or the page is full: direct gets are answered by any replica and the consumer
   * may sit on one, and a replica lags the leader by what it has not applied yet (for a while
   * after a restart, by many). One round trip when nothing lags; without it a recovery could
   * end before messages its client was sent live. Best effort: without a leader (an election)
   * the replica's answer stands, as before this check (also past MAX_LEADER_READS); a message it
   * lacked shows up as a gap at the channel's next message (its prev) and is repaired then.
   */
  async #fromLeader(subject: string, startSeq: number, walk: Walk): Promise<void> {
    try {
      await readFromLeader(this.#o.jsm, this.#o.stream, subject, startSeq, (m) => {
        this.#lagReads++;
        return walk.take(m.seq, m.string(), m.header, () => parseNatsTime(m.timestamp));
      });
    } catch {
      this.#leaderMisses++; // no leader, a timeout, or a replica too far behind: the replica's answer stands
    }
  }

  /**
   * Whether the leader holds `seq` for `subject`: asked when a replica does not (it may lag, e.g.
   * a message its client got live). Without a leader: no, as the replica said (the read then
   * answers `complete` from the stream's state, conservatively).
   */
  async #heldByLeader(seq: number, subject: string): Promise<boolean> {
    try {
      const m = await this.#o.jsm.streams.getMessage(this.#o.stream, { seq });
      return m !== null && m.subject === subject;
    } catch {
      this.#leaderMisses++;
      return false;
    }
  }

  async #direct(request: { seq: number; next_by_subj?: string }): Promise<Msg | null> {
    const r = await this.#o.nc.request(`$JS.API.DIRECT.GET.${this.#o.stream}`, JSON.stringify(request), { timeout: this.#o.timeoutMs });
    if (r.headers?.code === 404) return null;
    assertOk(r);
    return r;
  }

  /** Streams the rest of the walk from `startSeq` through an ephemeral push consumer. */
  #consume(subject: string, startSeq: number, walk: Walk): Promise<void> {
    const { nc, jsm, stream, timeoutMs } = this.#o;
    return readSubjectRange({
      nc, jsm, stream, timeoutMs,
      timeoutError: () => new BusError('timeout', `history read of ${subject} took over ${timeoutMs} ms`),
      consumerError: (err) => (err instanceof Error ? err : new Error(String(err))),
    }, subject, startSeq, (seq, m, storedMs) => {
      if (walk.done) return false;
      const more = walk.take(seq, m.string(), m.headers, () => storedMs);
      if (!more) walk.done = true;
      return more;
    }).then(() => {
      walk.done = true;
    });
  }
}

/** Throws for an error status (anything but a message). */
function assertOk(r: Msg): void {
  const code = r.headers?.code ?? 0;
  if (code !== 0 && code !== 200) throw new Error(`JetStream direct get failed: ${code} ${r.headers?.description ?? ''}`);
}

/** A BusMessage from a stored message: ts from `Herald-Ts`, else the store time. */
export function toBusMessage(channel: string, seq: number, prev: number, data: string, h: MsgHdrs | undefined, storedMs: () => number): BusMessage {
  const tsText = h?.get(HDR_TS);
  const ts = tsText ? Number(tsText) : Number.NaN;
  const id = h?.get(HDR_ID);
  const stored = Number.isFinite(ts) ? ts : storedMs();
  const base = { channel, seq, prev, ts: Number.isFinite(stored) ? stored : Date.now(), data };
  return id ? { ...base, id } : base;
}
