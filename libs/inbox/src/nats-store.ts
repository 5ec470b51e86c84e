/**
 * The inbox on JetStream (docs/inbox.md#storage-on-nats): one file stream for every user's
 * inbox (subject per user, max age = TTL, per-subject max = HERALD_INBOX_MAX, discard old, live
 * copies by RePublish) and one KV entry of receipt state per user, changed by compare-and-set
 * after the events of its transitions are published (deterministic ids).
 * @module
 */
import { headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  DiscardPolicy, jetstream, jetstreamManager, JetStreamApiError, RetentionPolicy, StorageType,
  type JetStreamClient, type JetStreamManager, type StreamConfig, type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { addOrGetStream, encodeToken } from '@herald/bus';
import type { EventPublisher } from '@herald/events';
import {
  checkAfter, checkLimit, checkUser, DEFAULT_INBOX_MAX, DEFAULT_INBOX_TTL_MS, DEFAULT_LIST_LIMIT, expiryOf, messageIdOf, PageCollector, visible,
} from './common.js';
import { NO_EVENTS, publishTransitions } from './events.js';
import { inboxNames, type InboxNames } from './names.js';
import { SubjectReader } from './nats-reader.js';
import {
  applyReceipt, checkTarget, covers, decodeReceipts, EMPTY_RECEIPTS, encodeReceipts, mergeReceipts, receiptRange, type HeldRef, type ReceiptStatus, type ReceiptValue,
} from './receipts.js';
import {
  InboxError, type AppendInput, type AppendResult, type InboxChange, type InboxListener, type InboxListing, type InboxMessage, type InboxStore,
  type ListOptions, type PendingPage, type ReceiptResult, type ReceiptTarget,
} from './types.js';

/** JetStream's dedupe header, stored with the message: `<base64url(user)>.<message id>`. */
export const HDR_MSG_ID = 'Nats-Msg-Id';
export const HDR_TS = 'Herald-Inbox-Ts';
export const HDR_EXP = 'Herald-Inbox-Exp';

/** Compare-and-set rounds of one receipt before giving up with InboxError('conflict'). */
export const MAX_CAS_ROUNDS = 16;
/**
 * How long after a committed receipt its entry is read again from the stream leader. nats-server
 * before 2.9.21 can let two clustered compare-and-set writes against one revision both succeed,
 * the later dropping the earlier (nats-server#4320, the cause of the events fix); a receipt that
 * finds its value dropped writes the merge of both (states only rise). Events are not affected:
 * they were published before the write.
 */
export const VERIFY_AFTER_MS = 250;
/** Verifications pending at once; past it new ones are skipped (counted). */
const MAX_VERIFYING = 1000;

export interface NatsInboxOptions {
  readonly nc: NatsConnection;
  /** Subject prefix (HERALD_NATS_PREFIX); default `herald`. */
  readonly prefix?: string;
  /** Stream and bucket replicas (HERALD_NATS_REPLICAS). */
  readonly replicas?: number;
  /** HERALD_INBOX_TTL_MS: the stream's max age. */
  readonly ttlMs?: number;
  /** HERALD_INBOX_MAX: the stream's max messages per subject. */
  readonly maxPerUser?: number;
  /** HERALD_DEDUPE_WINDOW_MS: the stream's duplicate window (at most the TTL). */
  readonly dedupeWindowMs?: number;
  readonly timeoutMs?: number;
  /** Where receipt events go (NatsEventPublisher of @herald/events). */
  readonly events?: EventPublisher;
  /** Clock for visibility and event times (tests). */
  readonly now?: () => number;
}

const decoder = new TextDecoder();

/** JetStream "wrong last sequence": another writer changed the entry first. */
function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10071 || err.code === 10164);
}

/** The stream's configuration for these options. */
export function inboxStreamConfig(names: InboxNames, o: { replicas: number; ttlMs: number; maxPerUser: number; dedupeWindowMs: number }): Partial<StreamConfig> & { name: string } {
  return {
    name: names.stream,
    subjects: [names.storedWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas,
    max_age: o.ttlMs * 1_000_000,
    max_msgs_per_subject: o.maxPerUser,
    discard: DiscardPolicy.Old,
    duplicate_window: Math.min(o.dedupeWindowMs, o.ttlMs) * 1_000_000,
    allow_direct: true,
    republish: { src: names.storedWildcard, dest: names.liveWildcard },
  };
}

/** Creates the stream, or updates it to `config`; a stream of that name with other subjects is another install's: refused. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<StreamInfo> {
  const { created, info } = await addOrGetStream(jsm, config);
  if (created) return info;
  const held = info.config.subjects ?? [];
  if (held.length !== 1 || held[0] !== config.subjects?.[0]) {
    throw new InboxError('invalid', `stream ${config.name} holds ${JSON.stringify(held)}, not ${JSON.stringify(config.subjects)}: another install's`);
  }
  return await jsm.streams.update(config.name, config);
}

/** The message id from the stored `Nats-Msg-Id` (the user token holds no dot). */
function idOf(h: MsgHdrs | undefined): string | undefined {
  const msgId = h?.get(HDR_MSG_ID);
  if (!msgId) return undefined;
  const dot = msgId.indexOf('.');
  return dot < 0 ? undefined : msgId.slice(dot + 1);
}

function messageOf(user: string, seq: number, data: Uint8Array, h: MsgHdrs | undefined): InboxMessage {
  const id = idOf(h) ?? String(seq);
  const ts = Number(h?.get(HDR_TS));
  const expText = h?.get(HDR_EXP);
  const exp = expText ? Number(expText) : Number.NaN;
  return { user, seq, id, ts: Number.isFinite(ts) ? ts : 0, ...(Number.isFinite(exp) ? { exp } : {}), data: decoder.decode(data) };
}

export class NatsInboxStore implements InboxStore {
  readonly names: InboxNames;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  /** The receipts bucket with direct get off: every read is answered by the stream leader, never a lagging replica. */
  readonly #state: KV;
  readonly #reader: SubjectReader;
  readonly #verifying = new Set<ReturnType<typeof setTimeout>>();
  /**
   * Receipts found dropped after their write (nats-server#4320) and repaired; verifications
   * skipped; messages a lagging replica had not applied yet, read from the stream leader instead.
   */
  readonly stats = { repaired: 0, skippedVerifications: 0, lagReads: 0 };
  #closed = false;
  readonly #ttlMs: number;
  readonly #timeoutMs: number;
  readonly #events: EventPublisher;
  readonly #now: () => number;
  readonly #subs = new Set<Subscription>();

  private constructor(o: NatsInboxOptions, names: InboxNames, jsm: JetStreamManager, state: KV) {
    this.names = names;
    this.#nc = o.nc;
    this.#timeoutMs = o.timeoutMs ?? 5000;
    this.#js = jetstream(o.nc, { timeout: this.#timeoutMs });
    this.#jsm = jsm;
    this.#state = state;
    this.#reader = new SubjectReader({ nc: o.nc, jsm, stream: names.stream, timeoutMs: this.#timeoutMs, stats: this.stats });
    this.#ttlMs = o.ttlMs ?? DEFAULT_INBOX_TTL_MS;
    this.#events = o.events ?? NO_EVENTS;
    this.#now = o.now ?? Date.now;
  }

  /** Creates (or updates) the stream and the receipts bucket, and returns the store. */
  static async open(o: NatsInboxOptions): Promise<NatsInboxStore> {
    const names = inboxNames(o.prefix);
    const timeout = o.timeoutMs ?? 5000;
    const jsm = await jetstreamManager(o.nc, { timeout, checkAPI: false });
    const replicas = o.replicas ?? 1;
    const ttlMs = o.ttlMs ?? DEFAULT_INBOX_TTL_MS;
    await ensureStream(jsm, inboxStreamConfig(names, { replicas, ttlMs, maxPerUser: o.maxPerUser ?? DEFAULT_INBOX_MAX, dedupeWindowMs: o.dedupeWindowMs ?? 120_000 }));
    const kvm = new Kvm(jetstream(o.nc, { timeout }));
    await kvm.create(names.stateBucket, { history: 1, replicas, ttl: ttlMs });
    // one handle for reads and writes, reading from the leader (docs/inbox.md#receipts-one-kv-entry-per-user-cumulative)
    const state = await kvm.open(names.stateBucket, { allow_direct: false });
    return new NatsInboxStore(o, names, jsm, state);
  }

  /** The stream's state (messages, bytes): the storage cost. */
  streamInfo(): Promise<StreamInfo> {
    return this.#jsm.streams.info(this.names.stream);
  }

  async append(user: string, input: AppendInput): Promise<AppendResult> {
    checkUser(user);
    const id = messageIdOf(input);
    const now = this.#now();
    const exp = expiryOf(input, now, this.#ttlMs);
    const h = natsHeaders();
    h.set(HDR_TS, String(now));
    if (exp !== undefined) h.set(HDR_EXP, String(exp));
    try {
      const ack = await this.#js.publish(this.names.stored(user), input.data, { msgID: `${encodeToken(user)}.${id}`, headers: h, timeout: this.#timeoutMs });
      return { seq: ack.seq, id, duplicate: ack.duplicate };
    } catch (err) {
      throw new InboxError('unavailable', 'inbox append failed', { cause: err });
    }
  }

  /** The user's receipt entry, always from the bucket's leader (every read either decides a write or is shown to the user). */
  async #receipts(user: string): Promise<{ value: ReceiptValue; revision: number }> {
    try {
      const e = await this.#state.get(this.names.stateKey(user));
      if (e === null || e.operation !== 'PUT') return { value: EMPTY_RECEIPTS, revision: e?.revision ?? 0 };
      return { value: decodeReceipts(e.string()), revision: e.revision };
    } catch (err) {
      throw new InboxError('unavailable', 'inbox receipts read failed', { cause: err });
    }
  }

  async pending(user: string, afterSeq: number, limit: number): Promise<PendingPage> {
    checkUser(user);
    const after = checkAfter(afterSeq);
    // From the leader, like the receipts themselves: a lagging replica (one restarted after a
    // failure catches up for a while) would answer an older entry, and a connecting device would
    // get messages the user already read on another one as pending.
    const { value } = await this.#receipts(user);
    const page = new PageCollector({ limit: checkLimit(limit, DEFAULT_LIST_LIMIT) }, value, DEFAULT_LIST_LIMIT, true);
    const now = this.#now();
    // Every message at or below the read mark is read: start after it.
    await this.#reader.walk(this.names.stored(user), Math.max(after, value.r) + 1, (seq, data, h) => {
      const m = messageOf(user, seq, data, h);
      return !visible(m, now, this.#ttlMs) || page.take(m);
    });
    return { messages: page.entries, more: page.more };
  }

  async list(user: string, options: ListOptions = {}): Promise<InboxListing> {
    checkUser(user);
    const after = checkAfter(options.after);
    // From the leader: a listing right after a receipt shows it (read your writes).
    const { value } = await this.#receipts(user);
    const page = new PageCollector(options, value, DEFAULT_LIST_LIMIT);
    const now = this.#now();
    await this.#reader.walk(this.names.stored(user), after + 1, (seq, data, h) => {
      const m = messageOf(user, seq, data, h);
      return !visible(m, now, this.#ttlMs) || page.take(m);
    });
    const last = page.entries.at(-1);
    return { delivered: value.d, read: value.r, messages: page.entries, ...(page.more && last !== undefined ? { next: last.seq } : {}) };
  }

  markDelivered(user: string, target: ReceiptTarget): Promise<ReceiptResult> {
    return this.#receipt(user, 'delivered', target);
  }

  markRead(user: string, target: ReceiptTarget): Promise<ReceiptResult> {
    return this.#receipt(user, 'read', target);
  }

  /** Held messages (headers only) with lo < seq ≤ hi, visible now. */
  async #held(user: string, lo: number, hi: number): Promise<HeldRef[]> {
    const held: HeldRef[] = [];
    const now = this.#now();
    await this.#reader.walk(this.names.stored(user), lo + 1, (seq, data, h) => {
      if (seq > hi) return false;
      const m = messageOf(user, seq, data, h);
      if (visible(m, now, this.#ttlMs)) held.push({ seq, id: m.id });
      return seq < hi; // at hi: nothing further can be in range, spare the look-ahead
    }, true);
    return held;
  }

  /**
   * Read state and messages, decide, publish the transitions' events, then compare-and-set;
   * a lost compare-and-set starts over (the winner's transitions are no longer transitions).
   */
  async #receipt(user: string, status: ReceiptStatus, rawTarget: ReceiptTarget): Promise<ReceiptResult> {
    checkUser(user);
    const target = checkTarget(rawTarget);
    const key = this.names.stateKey(user);
    let published = 0;
    for (let round = 0; round < MAX_CAS_ROUNDS; round++) {
      const { value, revision } = await this.#receipts(user);
      const range = receiptRange(value, status, target);
      const held = range === undefined ? [] : await this.#held(user, range.lo, range.hi);
      const { next, transitions } = applyReceipt(value, status, target, held);
      if (next === undefined) return { transitions: [], delivered: value.d, read: value.r, readSeqs: value.rx, eventsPublished: published };
      try {
        await publishTransitions(this.#events, user, transitions, this.#now());
      } catch (err) {
        throw new InboxError('unavailable', 'receipt events could not be published', { cause: err });
      }
      published += transitions.length;
      try {
        if (revision === 0) await this.#state.create(key, encodeReceipts(next));
        else await this.#state.update(key, encodeReceipts(next), revision);
      } catch (err) {
        if (isConflict(err)) continue;
        throw new InboxError('unavailable', 'receipt could not be stored', { cause: err });
      }
      const seqs = transitions.filter((t) => t.type === (status === 'read' ? 'message.read' : 'message.delivered')).map((t) => t.seq);
      const change: InboxChange = { kind: 'receipt', status, delivered: next.d, read: next.r, readSeqs: next.rx, seqs };
      this.#nc.publish(this.names.state(user), JSON.stringify(change));
      this.#verifyLater(user, next);
      return { transitions, delivered: next.d, read: next.r, readSeqs: next.rx, eventsPublished: published };
    }
    throw new InboxError('conflict', `receipt of ${MAX_CAS_ROUNDS} rounds lost every compare-and-set`);
  }

  /** Reads the entry again from the leader after VERIFY_AFTER_MS and restores what a dropped write lost. */
  #verifyLater(user: string, ours: ReceiptValue): void {
    if (this.#closed) return;
    if (this.#verifying.size >= MAX_VERIFYING) {
      this.stats.skippedVerifications++;
      return;
    }
    const timer = setTimeout(() => {
      this.#verifying.delete(timer);
      this.#repair(user, ours).catch(() => undefined); // best effort: the next receipt of the user covers it too
    }, VERIFY_AFTER_MS);
    timer.unref();
    this.#verifying.add(timer);
  }

  async #repair(user: string, ours: ReceiptValue): Promise<void> {
    const key = this.names.stateKey(user);
    for (let round = 0; round < MAX_CAS_ROUNDS && !this.#closed; round++) {
      const { value, revision } = await this.#receipts(user);
      if (covers(value, ours)) return;
      const merged = encodeReceipts(mergeReceipts(value, ours));
      try {
        if (revision === 0) await this.#state.create(key, merged);
        else await this.#state.update(key, merged, revision);
        this.stats.repaired++;
        return;
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    }
  }

  async retract(user: string, id: string): Promise<boolean> {
    checkUser(user);
    let found = 0;
    await this.#reader.walk(this.names.stored(user), 1, (seq, _data, h) => {
      if (idOf(h) !== id) return true;
      found = seq;
      return false;
    }, true);
    if (found === 0) return false;
    try {
      return await this.#jsm.streams.deleteMessage(this.names.stream, found, false);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === 10057) return false; // already gone
      throw new InboxError('unavailable', 'inbox retract failed', { cause: err });
    }
  }

  async watch(user: string, listener: InboxListener): Promise<() => Promise<void>> {
    checkUser(user);
    const live = this.#nc.subscribe(this.names.live(user), {
      callback: (err, m) => {
        if (err) return;
        const seq = Number(m.headers?.get('Nats-Sequence'));
        if (!Number.isSafeInteger(seq)) return;
        listener({ kind: 'message', message: messageOf(user, seq, m.data, m.headers) });
      },
    });
    const state = this.#nc.subscribe(this.names.state(user), {
      callback: (err, m) => {
        if (err) return;
        try {
          const change = JSON.parse(m.string()) as InboxChange;
          if (change.kind === 'receipt') listener(change);
        } catch {
          // not ours
        }
      },
    });
    this.#subs.add(live).add(state);
    // The server has both subscriptions once the flush returns: nothing stored after this resolves is missed.
    await this.#nc.flush();
    return () => {
      for (const s of [live, state]) {
        s.unsubscribe();
        this.#subs.delete(s);
      }
      return Promise.resolve();
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#verifying) clearTimeout(t);
    this.#verifying.clear();
    for (const s of this.#subs) s.unsubscribe();
    this.#subs.clear();
    return Promise.resolve();
  }
}
