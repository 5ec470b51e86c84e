/**
 * The presence store on NATS: a JetStream KV bucket (one per prefix), one entry per user or
 * topic, every change a compare-and-set on the entry's revision (works on nats-server 2.9:
 * no per-message TTL needed). The event of a transition is written into the entry with the
 * transition (an outbox), published, then cleared; a writer that finds an event still there
 * publishes it again first, so an event is never lost to a crash and events of one key reach
 * the stream in transition order.
 *
 * Reads that decide (after a conflict, or `fresh`) go to the stream leader: a bucket with
 * `allow_direct` lets any replica answer a plain `get`, and a lagging follower can return an entry
 * older than this node's own last write, so "my count is already there, nothing to write" would be
 * decided on stale data and the write lost.
 * @module
 */
import type { Logger } from '@herald/telemetry';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { describeKey, transitionEvent } from './keys.js';
import { decodeValue, encodeValue, type PresenceValue } from './presence-state.js';
import type { EventPublisher, MutateOptions, Mutation, PresenceStore } from './store.js';

/** JetStream's "wrong last sequence": another writer changed the entry first. */
const WRONG_LAST_SEQUENCE = 10071;

export function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

/** Round trips to NATS made by the store (the cost figures in docs/events.md come from these). */
export interface StoreStats {
  gets: number;
  puts: number;
  conflicts: number;
  publishes: number;
}

/** Entries whose last revision this node remembers (its own writes); beyond it the cache starts over. */
const MAX_CACHED = 100_000;

export class KvPresenceStore implements PresenceStore {
  readonly stats: StoreStats = { gets: 0, puts: 0, conflicts: 0, publishes: 0 };
  /**
   * The revision and value of this node's last write per key: the next write of the key tries its
   * CAS against it without a read first (one round trip instead of two while this node is the last
   * writer); a conflict drops it and reads. A cached value never holds an unpublished event.
   */
  private readonly cache = new Map<string, { revision: number; value: PresenceValue }>();
  private readonly kv: KV;
  /** The same bucket bound with direct get off: `get` is answered by the stream leader. */
  private readonly leader: KV;
  private readonly epoch: string;
  private readonly publisher: EventPublisher;
  private readonly logger: Logger | undefined;

  /**
   * `epoch` names the bucket's incarnation (its creation time): event ids of a recreated bucket differ.
   * `leader` is the bucket bound with `allow_direct: false` (defaults to `kv`: right for R1 or a
   * bucket without direct get).
   */
  constructor(kv: KV, epoch: string, publisher: EventPublisher, logger?: Logger, leader?: KV) {
    this.kv = kv;
    this.leader = leader ?? kv;
    this.epoch = epoch;
    this.publisher = publisher;
    this.logger = logger;
  }

  async mutate(key: string, mutation: Mutation, options: MutateOptions = {}): Promise<PresenceValue | undefined> {
    for (let attempt = 0; ; attempt++) {
      // After a conflict the cache is gone and the read must not be a lagging replica's.
      const { revision, current } = await this.read(key, options.fresh === true || attempt > 0);
      // Outbox: the previous writer's event may not be on the stream yet; it goes first.
      if (current?.ev) await this.publish(current.ev);
      const now = Date.now();
      const t = mutation(current, now);
      if (!t) {
        if (current?.ev) await this.clear(key, current, revision);
        return current && withoutEvent(current);
      }
      const event = t.kind ? transitionEvent(this.epoch, key, revision, t.kind, now) : undefined;
      const next: PresenceValue = event ? { ...withoutEvent(t.next), ev: event } : withoutEvent(t.next);
      let written: number;
      try {
        written = await this.write(key, next, revision);
      } catch (err) {
        this.cache.delete(key);
        if (!isConflict(err)) throw err;
        this.stats.conflicts++;
        // Contention on a hot key: a short random pause spreads the writers out.
        if (attempt >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
        continue;
      }
      if (!event) this.remember(key, written, next);
      else {
        try {
          await this.publish(event);
          await this.clear(key, next, written);
        } catch (err) {
          // The event stays in the entry: the next writer, or the sweep, publishes it.
          this.logger?.warn({ err, id: event.id }, 'event left in the presence outbox');
        }
      }
      return isEmpty(next) ? undefined : withoutEvent(next);
    }
  }

  forget(): void {
    this.cache.clear();
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    for await (const key of await this.kv.keys()) if (describeKey(key)) out.push(key);
    return out;
  }

  /** The entry from the cache, else from the bucket (0: absent or deleted); `fresh`: from the stream leader. */
  private async read(key: string, fresh: boolean): Promise<{ revision: number; current: PresenceValue | undefined }> {
    const cached = fresh ? undefined : this.cache.get(key);
    if (cached) return { revision: cached.revision, current: cached.value };
    this.stats.gets++;
    const entry = await (fresh ? this.leader : this.kv).get(key);
    return { revision: entry?.revision ?? 0, current: entry && entry.operation === 'PUT' ? decodeValue(entry.value) : undefined };
  }

  private remember(key: string, revision: number, value: PresenceValue): void {
    if (value.ev !== undefined || isEmpty(value)) {
      this.cache.delete(key);
      return;
    }
    if (this.cache.size >= MAX_CACHED && !this.cache.has(key)) this.cache.clear();
    this.cache.set(key, { revision, value });
  }

  /** Writes `value` (or deletes an empty entry) if the entry is still at `revision` (0: absent). */
  private async write(key: string, value: PresenceValue, revision: number): Promise<number> {
    this.stats.puts++;
    return this.kv.put(key, encodeValue(value), { previousSeq: revision });
  }

  /** Removes the published event from the entry; an empty entry is deleted. Losing the race is fine. */
  private async clear(key: string, value: PresenceValue, revision: number): Promise<void> {
    this.cache.delete(key);
    try {
      this.stats.puts++;
      if (isEmpty(value)) await this.kv.delete(key, { previousSeq: revision });
      else this.remember(key, await this.kv.put(key, encodeValue(withoutEvent(value)), { previousSeq: revision }), withoutEvent(value));
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }

  private async publish(event: NonNullable<PresenceValue['ev']>): Promise<void> {
    this.stats.publishes++;
    await this.publisher.publish(event);
  }
}

function withoutEvent(value: PresenceValue): PresenceValue {
  if (value.ev === undefined) return value;
  const { ev: _ev, ...rest } = value;
  return rest;
}

function isEmpty(value: PresenceValue): boolean {
  return !value.on && Object.keys(value.nodes).length === 0;
}
