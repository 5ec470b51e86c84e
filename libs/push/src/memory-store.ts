/**
 * In-process subscription store (memory mode: one process, lost on restart), bounded per user
 * and in the number of users.
 * @module
 */
import { DEFAULT_MAX_SUBSCRIPTIONS, withSubscription, type AddResult, type SubscriptionStore } from './store.js';
import type { PushSubscription } from './subscription.js';

export interface MemorySubscriptionStoreOptions {
  readonly maxPerUser?: number;
  /** Users kept; beyond it the least recently registered user is dropped (default 100,000). */
  readonly maxUsers?: number;
}

export class MemorySubscriptionStore implements SubscriptionStore {
  readonly #byUser = new Map<string, PushSubscription[]>();
  readonly #maxPerUser: number;
  readonly #maxUsers: number;

  constructor(options: MemorySubscriptionStoreOptions = {}) {
    this.#maxPerUser = options.maxPerUser ?? DEFAULT_MAX_SUBSCRIPTIONS;
    this.#maxUsers = options.maxUsers ?? 100_000;
  }

  add(user: string, subscription: PushSubscription): Promise<AddResult> {
    const { next, result } = withSubscription(this.#byUser.get(user) ?? [], subscription, this.#maxPerUser);
    this.#byUser.delete(user); // re-insert: Map order is registration recency
    this.#byUser.set(user, next);
    if (this.#byUser.size > this.#maxUsers) {
      const oldest = this.#byUser.keys().next();
      if (!oldest.done) this.#byUser.delete(oldest.value);
    }
    return Promise.resolve(result);
  }

  list(user: string): Promise<readonly PushSubscription[]> {
    return Promise.resolve([...(this.#byUser.get(user) ?? [])]);
  }

  remove(user: string, id: string): Promise<boolean> {
    const current = this.#byUser.get(user);
    if (!current?.some((s) => s.id === id)) return Promise.resolve(false);
    const next = current.filter((s) => s.id !== id);
    if (next.length === 0) this.#byUser.delete(user);
    else this.#byUser.set(user, next);
    return Promise.resolve(true);
  }
}
