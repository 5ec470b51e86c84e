/**
 * Publishes events to the events stream with `Nats-Msg-Id` = event id, so JetStream drops a
 * republished event within the duplicate window.
 * @module
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { AnyEvent } from './event.js';
import type { EventNames } from './names.js';
import type { EventPublisher } from './store.js';

export class NatsEventPublisher implements EventPublisher {
  private readonly js: JetStreamClient;
  private readonly names: EventNames;
  private readonly timeoutMs: number;
  /** Called after each stored event (metrics). */
  onPublished: ((event: AnyEvent, duplicate: boolean) => void) | undefined;

  constructor(nc: NatsConnection, names: EventNames, timeoutMs = 5000) {
    this.js = jetstream(nc, { timeout: timeoutMs });
    this.names = names;
    this.timeoutMs = timeoutMs;
  }

  async publish(event: AnyEvent): Promise<void> {
    const ack = await this.js.publish(this.names.subjectOf(event), JSON.stringify(event), { msgID: event.id, timeout: this.timeoutMs });
    this.onPublished?.(event, ack.duplicate);
  }
}
