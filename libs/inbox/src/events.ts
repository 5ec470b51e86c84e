/**
 * Receipt events: one `message.delivered` / `message.read` per transition, with an id made of
 * the transition's parts so a republished transition carries the same id (docs/inbox.md#events).
 * @module
 */
import { eventId, makeEvent, type EventPublisher, type HeraldEvent } from '@herald/events';
import { inboxChannel } from './names.js';
import type { Transition } from './types.js';

export type ReceiptEvent = HeraldEvent<'message.delivered'> | HeraldEvent<'message.read'>;

/** The event of one transition; the same transition always gives the same id. */
export function receiptEvent(user: string, t: Transition, nowMs: number): ReceiptEvent {
  const id = eventId(t.type, user, t.id, t.seq);
  const data = { user, channel: inboxChannel(user), seq: t.seq };
  return t.type === 'message.delivered' ? makeEvent('message.delivered', id, data, nowMs) : makeEvent('message.read', id, data, nowMs);
}

/** Events in flight per receipt. */
const CONCURRENCY = 32;

/** Publishes the events of `transitions` (bounded concurrency); rejects if any publish failed. */
export async function publishTransitions(publisher: EventPublisher, user: string, transitions: readonly Transition[], nowMs: number): Promise<void> {
  for (let i = 0; i < transitions.length; i += CONCURRENCY) {
    await Promise.all(transitions.slice(i, i + CONCURRENCY).map((t) => publisher.publish(receiptEvent(user, t, nowMs))));
  }
}

/** A publisher that drops every event (no events configured). */
export const NO_EVENTS: EventPublisher = { publish: () => Promise.resolve() };
