/**
 * A callback subscription of the NATS client without the parts only an iterator uses.
 *
 * nats-core 3.x builds every subscription as a queued iterator. Besides its `closed` promise it
 * makes two more deferreds (`signal`, `iterClosed`), each a promise with its resolve and reject
 * functions attached: about 250 bytes each. A callback subscription never awaits them (its
 * messages go straight to the callback; stopping it only resolves them), yet a gateway holds one
 * subscription per user with a connection (the personal channel): heap snapshots of 3,000 idle
 * connections put these two at about 500 of the ~2,500 bytes per connection of a NATS gateway.
 * Here both become one shared, already-resolved deferred (resolving it again does nothing).
 *
 * The fields are not part of the client's public API: the swap happens only on a callback
 * subscription whose two fields are deferred-shaped; anything else is left as it is (same
 * behaviour, more memory). A test checks with the installed client that it applies, and that
 * delivery, unsubscribe, `closed` and closing the connection still work.
 * @module
 */
import type { Subscription } from '@nats-io/transport-node';

/** The fields of nats-core 3.x's QueuedIteratorImpl read and replaced here. */
interface IteratorInternals {
  noIterator?: unknown;
  signal?: unknown;
  iterClosed?: unknown;
}

type Deferred = Promise<void> & { resolve(v?: unknown): void; reject(err?: unknown): void };

/** One settled deferred for every lightened subscription: resolve and reject do nothing. */
const SETTLED: Deferred = Object.assign(Promise.resolve(), { resolve: (): void => undefined, reject: (): void => undefined });

function isDeferred(v: unknown): boolean {
  return v instanceof Promise && typeof (v as Partial<Deferred>).resolve === 'function' && typeof (v as Partial<Deferred>).reject === 'function';
}

/** Drops the iterator-only deferreds of a callback subscription; true when it did (see the module doc). */
export function lightenCallbackSubscription(sub: Subscription): boolean {
  const s = sub as unknown as IteratorInternals;
  if (s.noIterator !== true || !isDeferred(s.signal) || !isDeferred(s.iterClosed)) return false;
  s.signal = SETTLED;
  s.iterClosed = SETTLED;
  return true;
}
