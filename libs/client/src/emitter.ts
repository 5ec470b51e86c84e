/**
 * A small typed event emitter. A handler that throws does not stop the client: its error
 * is rethrown on a later task, where the host reports it.
 * @module
 */

type Handler<A extends unknown[]> = (...args: A) => void;

/** @internal */
export function reportLater(err: unknown): void {
  setTimeout(() => {
    throw err;
  }, 0);
}

/** @internal */
export class Emitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #handlers = new Map<keyof E, Set<unknown>>();

  on<K extends keyof E>(event: K, handler: Handler<E[K]>): () => void {
    let set = this.#handlers.get(event);
    if (set === undefined) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => this.off(event, handler);
  }

  off<K extends keyof E>(event: K, handler: Handler<E[K]>): void {
    this.#handlers.get(event)?.delete(handler);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.#handlers.get(event);
    if (set === undefined) return;
    for (const h of [...set]) {
      try {
        (h as Handler<E[K]>)(...args);
      } catch (err) {
        reportLater(err);
      }
    }
  }
}
