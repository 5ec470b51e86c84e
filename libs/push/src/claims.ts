/**
 * Send claims: exactly one replica sends the push of a message. A claim is a KV entry per
 * message id that only one writer can create (JetStream's expected-last-sequence 0). It
 * carries a lease: a claimer that dies before finishing leaves a `claimed` entry whose lease
 * runs out, and the next replica to look takes it over with a compare-and-set on the entry's
 * revision (so two late replicas cannot both take over). A finished send marks the entry
 * `done`; the bucket's max age forgets claims after a day.
 *
 * Guarantee: at least one push per message while some replica keeps trying, and more than
 * one only when a claimer dies (or stalls past its lease) after the push service accepted the
 * push but before `done` was written; such a duplicate carries the same Topic, so the push
 * service replaces the first if it is still queued. docs/push.md explains the choice.
 * @module
 */
import type { KV } from '@nats-io/kv';
import { isConflict } from './kv-store.js';
import { keyOf } from './names.js';

export type ClaimState = 'claimed' | 'done';

interface ClaimValue {
  /** State. */
  readonly s: ClaimState;
  /** Owner (replica name), for logs. */
  readonly o: string;
  /** Lease end, ms since epoch (claimed only). */
  readonly u: number;
}

export type ClaimResult =
  /** This replica sends; call `done(token)` afterwards. `takeover`: a previous claimer's lease ran out. */
  | { readonly won: true; readonly token: ClaimToken; readonly takeover: boolean }
  /** Someone else holds a live lease: look again after `retryInMs` (its end) if the message still needs a push. */
  | { readonly won: false; readonly reason: 'held'; readonly owner: string; readonly retryInMs: number }
  /** The message's push was already sent. */
  | { readonly won: false; readonly reason: 'done'; readonly owner: string };

/** Proof of a won claim (the revision written), handed back to `done`. */
export interface ClaimToken {
  readonly messageId: string;
  readonly revision: number;
}

export interface PushClaims {
  claim(messageId: string, owner: string, leaseMs: number): Promise<ClaimResult>;
  /** Marks the message's push as sent; false when the lease was lost to another replica meanwhile. */
  done(token: ClaimToken, owner: string): Promise<boolean>;
}

function encode(value: ClaimValue): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function decode(bytes: Uint8Array): ClaimValue | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<ClaimValue>;
    if ((v.s === 'claimed' || v.s === 'done') && typeof v.o === 'string' && typeof v.u === 'number') return v as ClaimValue;
  } catch {
    // fall through: an unreadable entry is treated as an expired claim
  }
  return undefined;
}

export class KvPushClaims implements PushClaims {
  readonly #kv: KV;
  readonly #now: () => number;

  /** `now` is injectable so a test can stand a replica after a lease end without sleeping. */
  constructor(kv: KV, options: { now?: () => number } = {}) {
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
  }

  async claim(messageId: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    const key = keyOf('m', messageId);
    const mine: ClaimValue = { s: 'claimed', o: owner, u: this.#now() + leaseMs };
    try {
      const revision = await this.#kv.create(key, encode(mine));
      return { won: true, token: { messageId, revision }, takeover: false };
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const entry = await this.#kv.get(key);
    const current = entry && entry.operation === 'PUT' ? decode(entry.value) : undefined;
    if (current?.s === 'done') return { won: false, reason: 'done', owner: current.o };
    const now = this.#now();
    if (entry && current && current.u > now) return { won: false, reason: 'held', owner: current.o, retryInMs: current.u - now };
    if (!entry) return this.claim(messageId, owner, leaseMs); // purged between create and get: start over
    try {
      const revision = await this.#kv.update(key, encode({ ...mine, u: now + leaseMs }), entry.revision);
      return { won: true, token: { messageId, revision }, takeover: true };
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Another replica took it over first: it holds a fresh lease now.
      return { won: false, reason: 'held', owner: '?', retryInMs: leaseMs };
    }
  }

  async done(token: ClaimToken, owner: string): Promise<boolean> {
    try {
      await this.#kv.update(keyOf('m', token.messageId), encode({ s: 'done', o: owner, u: 0 }), token.revision);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}

/** Claims in one process (memory mode): the same contract without NATS. Bounded by `maxEntries`. */
export class MemoryPushClaims implements PushClaims {
  readonly #entries = new Map<string, ClaimValue & { rev: number }>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #rev = 0;

  constructor(options: { now?: () => number; maxEntries?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 100_000;
  }

  claim(messageId: string, owner: string, leaseMs: number): Promise<ClaimResult> {
    const now = this.#now();
    const current = this.#entries.get(messageId);
    if (current?.s === 'done') return Promise.resolve({ won: false, reason: 'done', owner: current.o });
    if (current && current.u > now) return Promise.resolve({ won: false, reason: 'held', owner: current.o, retryInMs: current.u - now });
    const rev = ++this.#rev;
    this.#entries.delete(messageId);
    this.#entries.set(messageId, { s: 'claimed', o: owner, u: now + leaseMs, rev });
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    return Promise.resolve({ won: true, token: { messageId, revision: rev }, takeover: current !== undefined });
  }

  done(token: ClaimToken, owner: string): Promise<boolean> {
    const current = this.#entries.get(token.messageId);
    if (!current || current.rev !== token.revision) return Promise.resolve(false);
    this.#entries.set(token.messageId, { s: 'done', o: owner, u: 0, rev: ++this.#rev });
    return Promise.resolve(true);
  }
}
