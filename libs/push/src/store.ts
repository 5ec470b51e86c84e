/**
 * Where subscriptions live: per user, at most `maxPerUser` (the oldest is evicted when a new
 * endpoint arrives at the bound). Implementations: in memory (one process) and JetStream KV.
 * @module
 */
import type { PushSubscription } from './subscription.js';

export interface AddResult {
  /** True when the endpoint was already registered (its keys are replaced). */
  readonly replaced: boolean;
  /** Ids evicted to stay within the per-user bound. */
  readonly evicted: readonly string[];
}

export interface SubscriptionStore {
  /** Registers a validated subscription (see checkSubscription). */
  add(user: string, subscription: PushSubscription): Promise<AddResult>;
  /** The user's subscriptions, oldest first. */
  list(user: string): Promise<readonly PushSubscription[]>;
  /** Removes one subscription; false when it was not there. */
  remove(user: string, id: string): Promise<boolean>;
}

/** The list after adding `sub` to `current` within `max` entries. Shared by both stores. */
export function withSubscription(current: readonly PushSubscription[], sub: PushSubscription, max: number): { next: PushSubscription[]; result: AddResult } {
  const replaced = current.some((s) => s.id === sub.id);
  const others = current.filter((s) => s.id !== sub.id);
  const overflow = Math.max(0, others.length + 1 - max);
  const evicted = others.slice(0, overflow).map((s) => s.id);
  return { next: [...others.slice(overflow), sub], result: { replaced, evicted } };
}

/** Default bound per user (HERALD_PUSH_MAX_SUBSCRIPTIONS). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 10;
