/**
 * Subscriptions in a JetStream KV bucket: one entry per user holding the user's list, every
 * change a compare-and-set on the entry's revision, so the per-user bound holds with
 * several replicas registering at once.
 * @module
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { keyOf } from './names.js';
import { DEFAULT_MAX_SUBSCRIPTIONS, withSubscription, type AddResult, type SubscriptionStore } from './store.js';
import type { PushSubscription } from './subscription.js';

/** JetStream "wrong last sequence" (10071): another writer changed the entry first. */
export function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === 10071 || err.code === 10164);
}

/** Compare-and-set retries before giving up (contention on one user's entry is rare). */
const MAX_CAS_ATTEMPTS = 10;

export class KvSubscriptionStore implements SubscriptionStore {
  readonly #kv: KV;
  readonly #maxPerUser: number;

  constructor(kv: KV, options: { maxPerUser?: number } = {}) {
    this.#kv = kv;
    this.#maxPerUser = options.maxPerUser ?? DEFAULT_MAX_SUBSCRIPTIONS;
  }

  async add(user: string, subscription: PushSubscription): Promise<AddResult> {
    let result: AddResult = { replaced: false, evicted: [] };
    await this.#mutate(user, (current) => {
      const r = withSubscription(current, subscription, this.#maxPerUser);
      result = r.result;
      return r.next;
    });
    return result;
  }

  async list(user: string): Promise<readonly PushSubscription[]> {
    return (await this.#read(user)).list;
  }

  async remove(user: string, id: string): Promise<boolean> {
    let removed = false;
    await this.#mutate(user, (current) => {
      removed = current.some((s) => s.id === id);
      return removed ? current.filter((s) => s.id !== id) : undefined;
    });
    return removed;
  }

  async #read(user: string): Promise<{ list: PushSubscription[]; revision: number }> {
    const entry = await this.#kv.get(keyOf('u', user));
    if (!entry || entry.operation !== 'PUT') return { list: [], revision: entry?.revision ?? 0 };
    return { list: decodeList(entry.value), revision: entry.revision };
  }

  /** Applies `change` with compare-and-set; `change` returns undefined for "nothing to write". */
  async #mutate(user: string, change: (current: PushSubscription[]) => PushSubscription[] | undefined): Promise<void> {
    const key = keyOf('u', user);
    for (let attempt = 1; ; attempt++) {
      const { list, revision } = await this.#read(user);
      const next = change(list);
      if (!next) return;
      try {
        const data = new TextEncoder().encode(JSON.stringify(next));
        if (revision === 0) await this.#kv.create(key, data);
        else await this.#kv.update(key, data, revision);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_CAS_ATTEMPTS) throw err;
      }
    }
  }
}

/** The stored list; a corrupt entry reads as empty rather than failing every push of the user. */
function decodeList(bytes: Uint8Array): PushSubscription[] {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return Array.isArray(parsed) ? (parsed as PushSubscription[]) : [];
  } catch {
    return [];
  }
}
