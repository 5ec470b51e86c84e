/**
 * The presence store of one process (memory mode): a map with revisions, the same transitions
 * and event ids as the KV store, nothing shared, nothing durable.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '@herald/telemetry';
import type { AnyEvent } from './event.js';
import { transitionEvent } from './keys.js';
import type { PresenceValue } from './presence-state.js';
import type { EventPublisher, Mutation, PresenceStore } from './store.js';

interface Held {
  readonly value: PresenceValue;
  readonly revision: number;
}

export class MemoryPresenceStore implements PresenceStore {
  private readonly epoch = randomBytes(8).toString('base64url');
  private readonly entries = new Map<string, Held>();
  private revision = 0;
  private readonly publisher: EventPublisher;
  private readonly logger: Logger | undefined;

  constructor(publisher: EventPublisher, logger?: Logger) {
    this.publisher = publisher;
    this.logger = logger;
  }

  mutate(key: string, mutation: Mutation): Promise<PresenceValue | undefined> {
    const held = this.entries.get(key);
    const now = Date.now();
    const t = mutation(held?.value, now);
    if (!t) return Promise.resolve(held?.value);
    const event = t.kind ? transitionEvent(this.epoch, key, held?.revision ?? 0, t.kind, now) : undefined;
    // One process: the write and the hand-over to the hub cannot be separated by a crash.
    if (!t.next.on && Object.keys(t.next.nodes).length === 0) this.entries.delete(key);
    else this.entries.set(key, { value: t.next, revision: ++this.revision });
    if (event) this.publish(event);
    return Promise.resolve(this.entries.get(key)?.value);
  }

  keys(): Promise<string[]> {
    return Promise.resolve([...this.entries.keys()]);
  }

  /** The value of a key (tests). */
  peek(key: string): PresenceValue | undefined {
    return this.entries.get(key)?.value;
  }

  private publish(event: AnyEvent): void {
    this.publisher.publish(event).catch((err: unknown) => this.logger?.warn({ err, id: event.id }, 'event not queued'));
  }
}
