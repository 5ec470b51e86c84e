/**
 * The store behind presence: one value per key, changed only by compare-and-set, with an
 * outbox so the event of a transition reaches the event publisher even when its writer dies.
 * @module
 */
import type { AnyEvent } from './event.js';
import type { PresenceValue, Transition } from './presence-state.js';

/** Decides the next value from the current one; `undefined`: nothing to write. */
export type Mutation = (current: PresenceValue | undefined, nowMs: number) => Transition | undefined;

export interface PresenceStore {
  /**
   * Applies `mutation` under compare-and-set (retried on conflict), publishes the event of the
   * transition it made (and any event a previous writer left unpublished), and resolves with
   * the value now stored (`undefined` when the key is absent).
   */
  mutate(key: string, mutation: Mutation, options?: MutateOptions): Promise<PresenceValue | undefined>;
  /** Forgets anything cached about entries (after this node may have been swept as dead). */
  forget?(): void;
  /** Every presence key (for the sweep after a node died). */
  keys(): Promise<string[]>;
}

export interface MutateOptions {
  /**
   * Decide on the stored value, never on a cached one: needed when the decision depends on
   * other nodes' counts (sweeps, grace checks); a node's own count can use its last write.
   */
  readonly fresh?: boolean;
}

/** Where events go: the events stream, or the in-process hub. */
export interface EventPublisher {
  /** Resolves once the event is stored (stream) or queued (memory). Same id twice: stored once within the dedupe window. */
  publish(event: AnyEvent): Promise<void>;
}
