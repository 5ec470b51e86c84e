/**
 * The in-process event hub of memory mode: events published here go to every listener (the
 * webhook sender) at once, in order. Not durable: events not yet delivered are lost with the process.
 * @module
 */
import type { AnyEvent } from './event.js';
import type { EventPublisher } from './store.js';

export type EventListener = (event: AnyEvent) => void;

export class MemoryEventHub implements EventPublisher {
  private readonly listeners = new Set<EventListener>();

  publish(event: AnyEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the others still get the event.
      }
    }
    return Promise.resolve();
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
