/**
 * Delivers events to one webhook target: signed POSTs (Standard Webhooks), in order per user
 * (or topic), a bounded number in flight, retried with exponential backoff and full jitter until
 * the retry horizon (counted from the event's time), then handed to the dead letters. Fed by a
 * source (the events stream's durable consumer, or the in-process hub) that never waits for it:
 * `offer` returns at once, so a slow or dead receiver never slows event production.
 * @module
 */
import type { Logger } from '@herald/telemetry';
import { eventTimeMs, type AnyEvent } from './event.js';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { orderingKey } from './names.js';
import { signHeaders, type SigningKey } from './signature.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { WebhookTarget } from './webhook-target.js';

/** One event handed to the sender by its source. */
export interface Delivery {
  readonly event: AnyEvent;
  /** The exact JSON that is signed and sent. */
  readonly body: string;
  /** Done with (delivered, filtered out or dead-lettered): the source may forget it. */
  ack(): void;
  /** Still being worked on (JetStream: in progress, so it is not redelivered meanwhile). */
  progress?(): void;
}

export interface WebhookSenderOptions {
  readonly target: WebhookTarget;
  readonly keys: readonly SigningKey[];
  /** Give up this long after the event's time, ms. */
  readonly retryMs: number;
  /** Timeout of one request, ms (connect to last byte of the answer head). */
  readonly timeoutMs: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Events held at once (queued + in flight + waiting to retry); `offer` refuses beyond it. */
  readonly maxPending: number;
  readonly backoff?: BackoffOptions;
  /** Keeps a given-up event (the dead-letter subject, or a log in memory mode); the event is acked after. */
  readonly deadLetter: (delivery: Delivery, reason: string) => Promise<void>;
  readonly metrics: WebhookMetrics;
  readonly logger?: Logger;
  /** How often held events are reported in progress to the source, ms (below the consumer's ack wait). */
  readonly progressMs?: number;
}

interface Held {
  delivery: Delivery;
  readonly key: string;
  attempts: number;
  timer?: NodeJS.Timeout;
  lastError?: string;
}

export class WebhookSender {
  private readonly o: WebhookSenderOptions;
  private readonly byId = new Map<string, Held>();
  private readonly queues = new Map<string, Held[]>();
  private readonly ready: string[] = [];
  private inFlight = 0;
  private closed = false;
  private readonly progressTimer: NodeJS.Timeout;
  private readonly label: { target: string };

  constructor(options: WebhookSenderOptions) {
    this.o = options;
    this.label = { target: options.target.id };
    this.progressTimer = setInterval(() => {
      for (const h of this.byId.values()) h.delivery.progress?.();
    }, options.progressMs ?? 10_000);
    this.progressTimer.unref();
  }

  /** Events held now. */
  get pending(): number {
    return this.byId.size;
  }

  /**
   * Takes an event. Types the target does not want are acked at once. A redelivery of an event
   * still held replaces its handle (no second request). False when full: the source keeps it.
   */
  offer(delivery: Delivery): boolean {
    if (this.closed) return false;
    if (!this.o.target.types.has(delivery.event.type)) {
      delivery.ack();
      return true;
    }
    const held = this.byId.get(delivery.event.id);
    if (held) {
      held.delivery = delivery;
      return true;
    }
    if (this.byId.size >= this.o.maxPending) return false;
    const h: Held = { delivery, key: orderingKey(delivery.event), attempts: 0 };
    this.byId.set(delivery.event.id, h);
    this.o.metrics.pending.inc(this.label);
    const queue = this.queues.get(h.key);
    if (queue) queue.push(h);
    else {
      this.queues.set(h.key, [h]);
      this.ready.push(h.key);
      this.pump();
    }
    return true;
  }

  /** Stops sending; held events stay unacked (the stream redelivers them to the next sender). */
  close(): void {
    this.closed = true;
    clearInterval(this.progressTimer);
    for (const h of this.byId.values()) if (h.timer) clearTimeout(h.timer);
    this.o.metrics.pending.dec(this.label, this.byId.size);
    this.byId.clear();
    this.queues.clear();
    this.ready.length = 0;
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.o.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      const head = this.queues.get(key)?.[0];
      if (head) void this.attempt(head);
    }
  }

  private async attempt(h: Held): Promise<void> {
    this.inFlight++;
    const error = await this.post(h.delivery);
    this.inFlight--;
    if (this.closed) return;
    if (error === undefined) {
      this.o.metrics.delivered.inc(this.label);
      this.o.metrics.latency.observe(this.label, Math.max(0, Date.now() - eventTimeMs(h.delivery.event)) / 1000);
      this.finish(h);
    } else if (Date.now() >= eventTimeMs(h.delivery.event) + this.o.retryMs) {
      this.o.metrics.failed.inc(this.label);
      this.o.logger?.warn({ target: this.o.target.display, id: h.delivery.event.id, attempts: h.attempts + 1, error }, 'webhook given up: dead-lettered');
      await this.o.deadLetter(h.delivery, error).catch((err: unknown) => this.o.logger?.error({ err }, 'dead letter not stored'));
      this.finish(h);
    } else {
      this.o.metrics.retried.inc(this.label);
      if (h.attempts === 0) this.o.logger?.info({ target: this.o.target.display, id: h.delivery.event.id, error }, 'webhook failed; retrying');
      h.lastError = error;
      const delay = backoffDelay(h.attempts++, this.o.backoff ?? DEFAULT_BACKOFF);
      h.timer = setTimeout(() => {
        delete h.timer;
        this.ready.push(h.key);
        this.pump();
      }, delay);
      h.timer.unref();
    }
    this.pump();
  }

  /** Acks the head of its key's queue and makes the next event of that key ready. */
  private finish(h: Held): void {
    h.delivery.ack();
    this.byId.delete(h.delivery.event.id);
    this.o.metrics.pending.dec(this.label);
    const queue = this.queues.get(h.key);
    queue?.shift();
    if (queue && queue.length > 0) this.ready.push(h.key);
    else this.queues.delete(h.key);
  }

  /** One signed POST; `undefined` on a 2xx answer, else why it failed (never the URL's query or the secret). */
  private async post(d: Delivery): Promise<string | undefined> {
    const headers = signHeaders(this.o.keys, d.event.id, Math.floor(Date.now() / 1000), d.body);
    try {
      const res = await fetch(this.o.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Herald-Webhooks/1', ...headers },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      // The answer's body is not read (a receiver could send anything): release the socket.
      await res.body?.cancel().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      return e.name === 'TimeoutError' ? `timeout after ${this.o.timeoutMs} ms` : (e.cause?.code ?? e.name ?? 'request failed');
    }
  }
}
