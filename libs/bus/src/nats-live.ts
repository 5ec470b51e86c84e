/**
 * Live delivery of one channel on NATS: decodes RePublish copies, drops duplicates,
 * and repairs gaps from history so that the handler sees every seq in order.
 * @module
 */
import type { Msg } from '@nats-io/transport-node';
import type { Logger } from '@herald/telemetry';
import { MAX_HISTORY_LIMIT, type BusMessage, type MessageHandler } from './bus.js';
import type { RawPage } from './nats-history.js';
import { liveHeaders } from './live-headers.js';
import { HDR_ID, HDR_LAST_SEQ, HDR_SEQ, HDR_TS } from './nats-stream.js';

const LIVE_HEADER_NAMES = { seq: HDR_SEQ, lastSeq: HDR_LAST_SEQ, ts: HDR_TS, id: HDR_ID };

/**
 * Live messages held while a gap is repaired. Beyond it newer ones are dropped and
 * read back from history once the repair is done (so memory stays bounded).
 */
export const MAX_REPAIR_BUFFER = 10_000;
/** When history has nothing yet for a gap although it should (a lagging replica), retry this many times. */
const LAG_RETRIES = 3;
const LAG_RETRY_MS = 50;
/** Backoff between failed history reads while repairing (the bus may be down). */
const ERROR_RETRY_MIN_MS = 250;
const ERROR_RETRY_MAX_MS = 5_000;

/** Reads a channel's history after `since` (one reader serves every channel of a bus: no closure per channel). */
export type ChannelReader = (channel: string, since: number, limit: number) => Promise<RawPage>;

/**
 * A RePublish copy as a BusMessage: `Nats-Sequence` is the seq, `Nats-Last-Sequence` the
 * prev, `Herald-Ts` the time (receipt time when a NATS publisher left it out).
 * `undefined` for anything that is not a republished message.
 */
export function decodeLive(channel: string, msg: Msg): BusMessage | undefined {
  const h = liveHeaders(msg, LIVE_HEADER_NAMES);
  if (!h) return undefined;
  const seq = Number(h.seq);
  if (!(seq > 0)) return undefined;
  const prev = Number(h.lastSeq) || 0;
  const tsText = h.ts;
  const ts = tsText ? Number(tsText) : Date.now();
  const id = h.id;
  const data = msg.string();
  const m: BusMessage = id ? { channel, seq, prev, ts, data, id } : { channel, seq, prev, ts, data };
  return h.trace === undefined ? m : { ...m, trace: h.trace };
}

/** Per-channel delivery state: the last delivered seq, and a repair buffer while a gap is filled. */
export class LiveChannel {
  readonly channel: string;
  handler: MessageHandler;
  /** Seq of the last message handed to the handler (or the channel's last seq when subscribing). */
  last: number;
  readonly #read: ChannelReader;
  readonly #log: Logger | undefined;
  /** Live messages held during a repair; made at the first gap (most channels never have one: one array less per channel). */
  #buffer: BusMessage[] | undefined;
  #repairing = false;
  /** Read history up to its end once the buffer is through (catch-up after a reconnect or an overflow). */
  #readToEnd = false;
  #closed = false;

  constructor(channel: string, handler: MessageHandler, read: ChannelReader, log?: Logger) {
    this.channel = channel;
    this.handler = handler;
    this.last = 0;
    this.#read = read;
    this.#log = log;
  }

  /** True while a repair is in flight (for tests and metrics). */
  get repairing(): boolean {
    return this.#repairing;
  }

  /** A live message (hot path): deliver, drop as duplicate, or start a repair. */
  accept(m: BusMessage): void {
    if (this.#closed) return;
    if (this.#repairing) {
      const buffer = (this.#buffer ??= []);
      if (buffer.length < MAX_REPAIR_BUFFER) buffer.push(m);
      else this.#readToEnd = true;
      return;
    }
    if (m.seq <= this.last) return;
    if (m.prev > this.last) {
      (this.#buffer ??= []).push(m);
      void this.#repair();
      return;
    }
    this.#deliver(m);
  }

  /** Delivers whatever history holds after `last` (after a reconnect: messages may have been missed). */
  catchUp(): void {
    if (this.#closed) return;
    this.#readToEnd = true;
    if (!this.#repairing) void this.#repair();
  }

  /** The store was recreated (new epoch): old seqs mean nothing; deliver the new store's messages. */
  reset(): void {
    this.last = 0;
    this.#buffer = undefined;
    this.catchUp();
  }

  close(): void {
    this.#closed = true;
    this.#buffer = undefined;
  }

  #deliver(m: BusMessage): void {
    this.last = m.seq;
    try {
      this.handler(m);
    } catch (err) {
      this.#log?.error({ err, channel: m.channel, seq: m.seq }, 'bus message handler threw');
    }
  }

  async #repair(): Promise<void> {
    this.#repairing = true;
    let lagRetries = 0;
    let errorDelay = ERROR_RETRY_MIN_MS;
    try {
      while (!this.#closed) {
        const head = this.#buffer?.[0];
        if (head) {
          if (head.seq <= this.last) {
            this.#buffer?.shift();
            continue;
          }
          if (head.prev <= this.last) {
            this.#buffer?.shift();
            this.#deliver(head);
            lagRetries = 0;
            continue;
          }
        } else if (!this.#readToEnd) {
          break;
        }
        // A gap before `head` (or a catch-up): fill it from history.
        const target = head ? head.seq : Number.POSITIVE_INFINITY;
        const since = this.last;
        let page: RawPage;
        try {
          page = await this.#read(this.channel, since, MAX_HISTORY_LIMIT);
          errorDelay = ERROR_RETRY_MIN_MS;
        } catch (err) {
          this.#log?.warn({ err, channel: this.channel, since }, 'gap repair read failed; retrying');
          await delay(errorDelay);
          errorDelay = Math.min(errorDelay * 2, ERROR_RETRY_MAX_MS);
          continue;
        }
        if (this.#closed) break;
        for (const m of page.messages) {
          if (m.seq >= target) break;
          if (m.seq > this.last) this.#deliver(m);
        }
        if (!head) {
          if (!page.truncated) this.#readToEnd = false;
          continue;
        }
        if (head.prev <= this.last) continue;
        if (page.truncated && this.last > since) continue;
        // History holds nothing more before `head`. A lagging replica may not have it yet.
        if (page.complete && lagRetries < LAG_RETRIES) {
          lagRetries++;
          await delay(LAG_RETRY_MS * lagRetries);
          continue;
        }
        // Evicted: deliver `head` anyway; its prev > the last seq tells readers they missed messages.
        this.#log?.warn({ channel: this.channel, last: this.last, seq: head.seq, prev: head.prev }, 'gap not repairable from history');
        this.#buffer?.shift();
        this.#deliver(head);
        lagRetries = 0;
      }
    } finally {
      this.#repairing = false;
      if (this.#buffer?.length === 0) this.#buffer = undefined;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
