/**
 * Running the webhook senders: on NATS each target reads the events stream through its own
 * durable consumer (so a restart resumes where it stopped and a dead target holds up no other);
 * in memory mode each target is fed from the in-process hub (lost with the process).
 * @module
 */
import { retrySetup } from '@herald/bus';
import type { Logger } from '@herald/telemetry';
import { headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy, DeliverPolicy, JetStreamApiError, jetstream, jetstreamManager, type ConsumerConfig, type ConsumerMessages, type JetStreamManager,
} from '@nats-io/jetstream';
import type { Registry } from '@herald/telemetry';
import { parseEvent } from './event.js';
import type { MemoryEventHub } from './memory-hub.js';
import type { EventNames } from './names.js';
import { webhookMetrics, type WebhookMetrics } from './webhook-metrics.js';
import { WebhookSender, type Delivery, type WebhookSenderOptions } from './webhook-sender.js';
import type { WebhookTarget } from './webhook-target.js';

/** One sender per target, each with the same signing keys, retry horizon and bounds. */
export interface WebhookRunOptions extends Pick<WebhookSenderOptions, 'keys' | 'retryMs' | 'timeoutMs' | 'concurrency' | 'maxPending' | 'backoff'> {
  readonly targets: readonly WebhookTarget[];
  readonly registry?: Registry;
  readonly logger?: Logger;
}

export interface WebhookRunner {
  readonly senders: readonly WebhookSender[];
  close(): Promise<void>;
}

/** Ack wait of the webhook consumers: held events are reported in progress (every 10 s) well within it; an event handed to a process that died goes to another after it. */
const ACK_WAIT_MS = 30_000;

function consumerConfig(names: EventNames, target: WebhookTarget, maxPending: number): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: names.webhookConsumer(target.id),
    description: `Herald webhook ${target.display}`,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ACK_WAIT_MS),
    // A new target starts with events published from now on, not the stream's whole past.
    deliver_policy: DeliverPolicy.New,
    filter_subject: names.eventsWildcard,
    max_ack_pending: maxPending,
    max_deliver: -1,
  };
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
    // Exists: keep its position, apply the limits that may change.
    await jsm.consumers.update(stream, config.durable_name, { max_ack_pending: config.max_ack_pending ?? 1000, ack_wait: config.ack_wait ?? nanos(ACK_WAIT_MS) });
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.status !== 404) throw err;
    await jsm.consumers.add(stream, config);
  }
}

/** How long a gateway's start keeps retrying the consumer setup while JetStream cannot answer (a fresh cluster electing leaders). */
const SETUP_RETRY_MS = 30_000;

/**
 * Runs `step` again after a failure JetStream may get over (a timeout, no responders, a 5xx answer
 * while a leader is elected), for up to SETUP_RETRY_MS (a failure before then is retried, so the
 * last pause may end after it); a refusal of the request itself (4xx) is final. Pauses double
 * from 200 ms to 2 s: a quick retry after a brief hiccup, fewer requests to a cluster that is
 * still electing. Without it a gateway started with a cluster could exit on its first slow answer.
 * @internal exported for its test
 */
export async function withSetupRetries<T>(what: string, step: () => Promise<T>, logger: Logger | undefined, retryMs = SETUP_RETRY_MS): Promise<T> {
  return await retrySetup(step, {
    withinMs: retryMs,
    isFinal: (err) => err instanceof JetStreamApiError && err.status >= 400 && err.status < 500,
    pause: { kind: 'exponential', firstMs: 200, maxMs: 2000 },
    stopWhen: 'deadline-passed',
    onRetry: ({ err, attempt, pauseMs }) => logger?.warn({ err, what, attempt, retryMs: pauseMs }, 'webhook consumer setup failed; retrying'),
  });
}

/** Webhooks from the events stream (the streams must exist: see ensureStreams / openNatsPresence). */
export async function startNatsWebhooks(nc: NatsConnection, names: EventNames, o: WebhookRunOptions): Promise<WebhookRunner> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const js = jetstream(nc);
  const metrics = webhookMetrics(o.registry);
  const senders: WebhookSender[] = [];
  const streams: ConsumerMessages[] = [];
  for (const target of o.targets) {
    await withSetupRetries(target.display, () => ensureConsumer(jsm, names.eventsStream, consumerConfig(names, target, o.maxPending)), o.logger);
    const sender = new WebhookSender({
      ...senderOptions(o, target, metrics),
      deadLetter: async (d, reason) => {
        const h = headers();
        h.set('Herald-Webhook-Error', reason.slice(0, 200));
        h.set('Herald-Webhook-Target', target.id);
        await js.publish(names.deadSubject(target.id), d.body, { headers: h, msgID: `${d.event.id}.${target.id}` });
      },
    });
    const consumer = await withSetupRetries(target.display, () => js.consumers.get(names.eventsStream, names.webhookConsumer(target.id)), o.logger);
    // A short pull expiry: a pull left open by a process that died (a killed gateway) would
    // otherwise hold events handed to it until the ack wait runs out.
    const messages = await consumer.consume({ max_messages: Math.min(o.maxPending, 256), expires: 5_000 });
    senders.push(sender);
    streams.push(messages);
    void (async () => {
      for await (const m of messages) {
        const body = m.string();
        const event = parseEvent(body);
        if (!event) {
          o.logger?.warn({ subject: m.subject.slice(0, 200) }, 'not an event on the events stream: dropped');
          m.term();
          continue;
        }
        const delivery: Delivery = { event, body, ack: () => m.ack(), progress: () => m.working() };
        // Full only when the consumer's limit is above ours: JetStream redelivers it later.
        if (!sender.offer(delivery)) m.nak(5000);
      }
    })().catch((err: unknown) => o.logger?.error({ err, target: target.display }, 'webhook consumer ended'));
  }
  return {
    senders,
    close: async () => {
      for (const s of senders) s.close();
      await Promise.all(streams.map((m) => m.close().catch(() => undefined)));
    },
  };
}

/** Memory mode: the same senders fed by the hub. Not durable: held events are lost with the process. */
export function startMemoryWebhooks(hub: MemoryEventHub, o: WebhookRunOptions): WebhookRunner & { readonly deadLetters: readonly { id: string; target: string; reason: string }[] } {
  const metrics = webhookMetrics(o.registry);
  const deadLetters: { id: string; target: string; reason: string }[] = [];
  const senders = o.targets.map((target) => new WebhookSender({
    ...senderOptions(o, target, metrics),
    deadLetter: (d, reason) => {
      // Bounded: the last 1,000 given-up events, for inspection.
      if (deadLetters.length >= 1000) deadLetters.shift();
      deadLetters.push({ id: d.event.id, target: target.id, reason });
      return Promise.resolve();
    },
  }));
  const unsubscribe = hub.subscribe((event) => {
    const body = JSON.stringify(event);
    senders.forEach((sender, i) => {
      if (!sender.offer({ event, body, ack: () => undefined })) {
        metrics.dropped.inc({ target: o.targets[i]?.id ?? '' });
        o.logger?.warn({ id: event.id, target: o.targets[i]?.display }, 'webhook queue full: event dropped');
      }
    });
  });
  return {
    senders,
    deadLetters,
    close: () => {
      unsubscribe();
      for (const s of senders) s.close();
      return Promise.resolve();
    },
  };
}

function senderOptions(o: WebhookRunOptions, target: WebhookTarget, metrics: WebhookMetrics): Omit<ConstructorParameters<typeof WebhookSender>[0], 'deadLetter'> {
  return {
    target, keys: o.keys, retryMs: o.retryMs, timeoutMs: o.timeoutMs, concurrency: o.concurrency, maxPending: o.maxPending, metrics,
    ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
  };
}
