/**
 * The push fallback timer (docs/push.md#the-fallback-timer): a message that is still
 * undelivered `afterMs` after it was stored gets one push through the PushDispatcher (whose
 * KV claim keeps it at one push per message across replicas).
 *
 * - `PushTimerCore.decide`: the decision for one message at one moment (wait, or done with a
 *   result), shared by both runners.
 * - `JetStreamPushTimer`: durable. One durable pull consumer on the message stream, shared by
 *   every replica; a message not yet due is `nak`ed with the remaining time as delay (nats-server
 *   ≥ 2.7), a due one is checked and dispatched, then acknowledged. A replica dying anywhere
 *   leaves the message unacknowledged: JetStream redelivers it after the ack wait to any replica,
 *   and the claim keeps it at one push.
 * - `MemoryPushTimer`: a timer per message in the process (memory mode), not durable.
 *
 * Everything is bounded: messages handled at once, the consumer's pull batch, pending messages
 * (consumer max_ack_pending / memory max), redeliveries (max_deliver).
 * @module
 */
import {
  AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError,
  type ConsumerConfig, type ConsumerMessages, type JsMsg,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Histogram, type Logger, type Registry } from '@herald/telemetry';
import type { DispatchOutcome, PushMessage } from './dispatcher.js';
import { PushError } from './errors.js';

/** What the timer needs to know of a stored message. */
export interface TimedMessage {
  /** Message id (logs; the dispatcher's claim key comes from `message()`). */
  readonly id: string;
  readonly user: string;
  /** When it was stored, ms since the epoch: it is due at `ts + afterMs`. */
  readonly ts: number;
}

export interface PushTimerHooks<T extends TimedMessage> {
  /** Whether the message still needs a push: held, not expired, not delivered or read. */
  needsPush(item: T): Promise<boolean>;
  /**
   * Whether the user has a live connection now; asked only with `afterMs` 0. Absent: every
   * user counts as offline (pushed at once unless already delivered).
   */
  online?(user: string): Promise<boolean>;
  /** The push of a message (payload, TTL, urgency). */
  message(item: T): PushMessage;
}

/** Anything with PushDispatcher's `dispatch`. */
export interface Dispatch {
  dispatch(message: PushMessage): Promise<DispatchOutcome>;
}

/** How one message ended. */
export type TimerResult =
  /** This replica pushed it (to at least one subscription, or every send failed for good). */
  | 'sent'
  /** Delivered (or read, retracted, expired) before it was due: no push. */
  | 'delivered'
  /** Another replica's push (claim `done`). */
  | 'done_elsewhere'
  | 'no_subscriptions'
  | 'rate_limited'
  /** Due longer ago than `maxLateMs` (the timer was down): skipped. */
  | 'stale'
  /** A push that can never be made (payload too large, undecodable message). */
  | 'invalid';

export type Decision =
  | { readonly kind: 'wait'; readonly ms: number; readonly why: 'not_due' | 'online' | 'held' | 'retry' | 'error' }
  | { readonly kind: 'final'; readonly result: TimerResult };

export interface PushTimerOptions<T extends TimedMessage> {
  readonly dispatcher: Dispatch;
  readonly hooks: PushTimerHooks<T>;
  /** HERALD_PUSH_AFTER_MS: a message undelivered this long after it was stored gets a push. */
  readonly afterMs: number;
  /** With afterMs 0 and the user online: look again this long after the message was stored (default 10 s). */
  readonly onlineRecheckMs?: number;
  /** A message due longer ago than this is skipped (default 1 h): a timer that was down does not push old news. */
  readonly maxLateMs?: number;
  /** Wait after a store or NATS error before looking again, ms (default 5 s). */
  readonly errorDelayMs?: number;
  readonly logger?: Logger;
  /** Metrics go here (herald_push_timer_total, herald_push_due_delay_seconds). */
  readonly registry?: Registry;
  readonly now?: () => number;
}

/** Counts of results since start (also exported as metrics when a registry is given). */
export type TimerStats = Record<TimerResult | 'failed' | 'waits', number>;

const RESULTS: readonly (TimerResult | 'failed' | 'waits')[] = ['sent', 'delivered', 'done_elsewhere', 'no_subscriptions', 'rate_limited', 'stale', 'invalid', 'failed', 'waits'];

interface Metrics {
  readonly results: Counter<'result'>;
  readonly delay: Histogram;
}

function metricsOf(registry: Registry | undefined): Metrics | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric('herald_push_timer_total') as Counter<'result'> | undefined;
  if (existing) return { results: existing, delay: registry.getSingleMetric('herald_push_due_delay_seconds') as Histogram };
  return {
    results: new Counter({
      name: 'herald_push_timer_total',
      help: 'Inbox messages the push timer finished, by result (sent, delivered, done_elsewhere, no_subscriptions, rate_limited, stale, invalid), failed = store/NATS errors retried',
      labelNames: ['result'], registers: [registry],
    }),
    delay: new Histogram({
      name: 'herald_push_due_delay_seconds',
      help: 'Time from a message\'s due time (stored + HERALD_PUSH_AFTER_MS) to the end of its push, s',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120], registers: [registry],
    }),
  };
}

/** The decision for one message; no I/O of its own besides the hooks and the dispatcher. */
export class PushTimerCore<T extends TimedMessage> {
  readonly stats: TimerStats = Object.fromEntries(RESULTS.map((r) => [r, 0])) as TimerStats;
  readonly #o: PushTimerOptions<T>;
  readonly #now: () => number;
  readonly #metrics: Metrics | undefined;
  readonly #recheckMs: number;
  readonly #maxLateMs: number;
  readonly #errorDelayMs: number;

  constructor(o: PushTimerOptions<T>) {
    if (!Number.isSafeInteger(o.afterMs) || o.afterMs < 0) throw new TypeError('afterMs must be a non-negative integer');
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#metrics = metricsOf(o.registry);
    this.#recheckMs = o.onlineRecheckMs ?? 10_000;
    this.#maxLateMs = o.maxLateMs ?? 3_600_000;
    this.#errorDelayMs = o.errorDelayMs ?? 5000;
  }

  get afterMs(): number {
    return this.#o.afterMs;
  }

  async decide(item: T): Promise<Decision> {
    try {
      return await this.#decide(item);
    } catch (err) {
      if (err instanceof PushError) {
        this.#o.logger?.warn({ msg_id: item.id, code: err.code }, 'push impossible for this message');
        return this.#final(item, 'invalid');
      }
      this.stats.failed++;
      this.#metrics?.results.inc({ result: 'failed' });
      this.#o.logger?.warn({ msg_id: item.id, err: err instanceof Error ? err.message : String(err) }, 'push timer: check failed, retried');
      return { kind: 'wait', ms: this.#errorDelayMs, why: 'error' };
    }
  }

  async #decide(item: T): Promise<Decision> {
    const { hooks, afterMs } = this.#o;
    let now = this.#now();
    const due = item.ts + afterMs;
    if (now < due) return this.#wait(due - now, 'not_due');
    if (now - due > this.#maxLateMs) return this.#final(item, 'stale');
    if (!(await hooks.needsPush(item))) return this.#final(item, 'delivered');
    if (afterMs === 0 && hooks.online !== undefined) {
      now = this.#now();
      // Connected: its gateway hands the message over and acknowledges it; push only if that has not happened by then.
      if (now < item.ts + this.#recheckMs && (await hooks.online(item.user))) return this.#wait(item.ts + this.#recheckMs - now, 'online');
    }
    const out = await this.#o.dispatcher.dispatch(hooks.message(item));
    switch (out.outcome) {
      case 'sent':
        this.#o.logger?.info({ msg_id: item.id, sent: out.sent, gone: out.gone, failed: out.failed, takeover: out.takeover }, 'push sent');
        return this.#final(item, 'sent');
      case 'done':
        return this.#final(item, 'done_elsewhere');
      case 'no_subscriptions':
      case 'rate_limited':
        return this.#final(item, out.outcome);
      case 'held':
        // Another replica is sending; look again when its lease ends (it is `done` by then, or taken over).
        return this.#wait(out.retryInMs + 50, 'held');
      case 'retry':
        return this.#wait(out.retryInMs + 50, 'retry');
    }
  }

  #wait(ms: number, why: 'not_due' | 'online' | 'held' | 'retry'): Decision {
    this.stats.waits++;
    return { kind: 'wait', ms: Math.max(1, Math.ceil(ms)), why };
  }

  #final(item: T, result: TimerResult): Decision {
    this.stats[result]++;
    this.#o.logger?.debug({ msg_id: item.id, result }, 'push timer done');
    this.#metrics?.results.inc({ result });
    if (result === 'sent') this.#metrics?.delay.observe(Math.max(0, this.#now() - item.ts - this.#o.afterMs) / 1000);
    return { kind: 'final', result };
  }
}

/** What `decode` sees of a JetStream delivery. */
export interface TimerDelivery {
  readonly subject: string;
  /** Stream sequence. */
  readonly seq: number;
  readonly headers?: { get(name: string): string } | undefined;
  readonly data: Uint8Array;
}

/**
 * "Has the user a live connection?" from a presence KV bucket whose entry per user holds
 * `{"nodes": {<node>: <connections>}}` (the gateways' presence state, @herald/events): online when
 * some node counts a connection. A missing bucket or entry reads as offline. One KV get per call.
 */
export function kvOnlineProbe(o: { nc: NatsConnection; bucket: string; key: (user: string) => string; timeoutMs?: number }): (user: string) => Promise<boolean> {
  let kv: ReturnType<Kvm['open']> | undefined;
  return async (user) => {
    kv ??= new Kvm(jetstream(o.nc, { timeout: o.timeoutMs ?? 5000 })).open(o.bucket).catch((err: unknown) => {
      kv = undefined;
      throw err;
    });
    let entry;
    try {
      entry = await (await kv).get(o.key(user));
    } catch {
      return false; // no presence bucket (presence off): offline
    }
    if (!entry || entry.operation !== 'PUT') return false;
    try {
      const v = JSON.parse(entry.string()) as { nodes?: Record<string, unknown> };
      return Object.values(v.nodes ?? {}).some((c) => typeof c === 'number' && c > 0);
    } catch {
      return false;
    }
  };
}

export interface JetStreamPushTimerOptions<T extends TimedMessage> extends PushTimerOptions<T> {
  readonly nc: NatsConnection;
  /** The stream holding the messages. */
  readonly stream: string;
  /** The subjects of the messages in it (e.g. `herald.inbox.>`). */
  readonly filterSubject: string;
  /** The durable consumer's name, the same on every replica. */
  readonly durable: string;
  /** The message of a delivery; `undefined`: not one (terminated, never redelivered). */
  decode(m: TimerDelivery): T | undefined;
  /** Ack wait, ms (default 30 s): a replica silent this long loses the message to another one. */
  readonly ackWaitMs?: number;
  /** Deliveries of one message at most (default 100; a not-due nak counts as one). */
  readonly maxDeliver?: number;
  /** Messages waiting at once across the cluster (default 20,000): about the inbox rate × afterMs. */
  readonly maxAckPending?: number;
  /** Pull batch of this replica (default 64). */
  readonly batch?: number;
  /** Messages this replica handles at once (default 16). */
  readonly concurrency?: number;
  readonly timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/**
 * The consumer's configuration. Created with `deliver_policy` by start time (now − afterMs −
 * maxLate): a consumer created on an old stream does not walk messages that are too late anyway.
 */
export function timerConsumerConfig(o: { durable: string; filterSubject: string; ackWaitMs: number; maxDeliver: number; maxAckPending: number; startMs: number }): Partial<ConsumerConfig> {
  return {
    durable_name: o.durable,
    name: o.durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: o.ackWaitMs * 1_000_000,
    max_deliver: o.maxDeliver,
    max_ack_pending: o.maxAckPending,
    filter_subject: o.filterSubject,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(o.startMs).toISOString(),
  };
}

export class JetStreamPushTimer<T extends TimedMessage> {
  readonly core: PushTimerCore<T>;
  readonly #o: JetStreamPushTimerOptions<T>;
  readonly #ackWaitMs: number;
  readonly #concurrency: number;
  #stopped = false;
  #messages: ConsumerMessages | undefined;
  #inFlight = 0;
  readonly #idle = new Set<() => void>();
  #loop: Promise<void> | undefined;
  #ready: Promise<void> | undefined;

  constructor(o: JetStreamPushTimerOptions<T>) {
    this.#o = o;
    this.core = new PushTimerCore(o);
    this.#ackWaitMs = o.ackWaitMs ?? 30_000;
    this.#concurrency = o.concurrency ?? 16;
  }

  /** Messages being handled now by this replica. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Creates the consumer (retrying until NATS answers) and starts consuming; resolves once consuming. */
  start(): Promise<void> {
    if (this.#loop) return this.#ready ?? Promise.resolve();
    let ready!: () => void;
    this.#ready = new Promise((r) => (ready = r));
    this.#loop = this.#run(ready);
    return this.#ready;
  }

  async #ensureConsumer(): Promise<void> {
    const o = this.#o;
    const jsm = await jetstreamManager(o.nc, { timeout: o.timeoutMs ?? 5000, checkAPI: false });
    const config = timerConsumerConfig({
      durable: o.durable, filterSubject: o.filterSubject, ackWaitMs: this.#ackWaitMs, maxDeliver: o.maxDeliver ?? 100, maxAckPending: o.maxAckPending ?? 20_000,
      startMs: Date.now() - o.afterMs - (o.maxLateMs ?? 3_600_000),
    });
    try {
      await jsm.consumers.info(o.stream, o.durable);
      return; // exists: keep its position (its settings are the first creator's; docs/push.md)
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10014) throw err;
    }
    await jsm.consumers.add(o.stream, config);
  }

  async #run(ready: () => void): Promise<void> {
    const o = this.#o;
    let failures = 0;
    while (!this.#stopped) {
      try {
        await this.#ensureConsumer();
        const consumer = await jetstream(o.nc, { timeout: o.timeoutMs ?? 5000 }).consumers.get(o.stream, o.durable);
        const messages = await consumer.consume({ max_messages: o.batch ?? 64 });
        this.#messages = messages;
        ready();
        failures = 0;
        for await (const m of messages) {
          if (this.#stopped) break;
          while (this.#inFlight >= this.#concurrency) await new Promise<void>((r) => this.#idle.add(r));
          this.#inFlight++;
          void this.#handle(m).finally(() => {
            this.#inFlight--;
            for (const r of this.#idle) r();
            this.#idle.clear();
          });
        }
      } catch (err) {
        if (this.#stopped) break;
        failures++;
        o.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'push timer: consumer failed, restarting');
      }
      if (!this.#stopped) await sleep(Math.min(10_000, 250 * 2 ** Math.min(failures, 6)));
    }
  }

  async #handle(m: JsMsg): Promise<void> {
    const item = this.#o.decode(m);
    if (item === undefined) {
      m.term('not an inbox message');
      return;
    }
    // Keep the delivery ours while the push is under way (the sender may retry for a while).
    const beat = setInterval(() => m.working(), Math.max(1000, Math.floor(this.#ackWaitMs / 3)));
    try {
      const d = await this.core.decide(item);
      if (d.kind === 'wait') {
        m.nak(d.ms);
        this.#o.logger?.debug({ msg_id: item.id, seq: m.seq, deliveries: m.info.deliveryCount, wait_ms: d.ms, why: d.why }, 'push timer wait');
      } else {
        m.ack();
      }
    } finally {
      clearInterval(beat);
    }
  }

  /** Stops pulling and waits (bounded) for the messages in hand; unfinished ones are redelivered to another replica. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopped = true;
    try {
      await this.#messages?.close();
    } catch {
      // closing a consumer whose connection is gone
    }
    const end = Date.now() + timeoutMs;
    while (this.#inFlight > 0 && Date.now() < end) await new Promise<void>((r) => { this.#idle.add(r); setTimeout(r, 100).unref(); });
    await Promise.race([this.#loop, sleep(Math.max(0, end - Date.now()))]);
  }
}

export interface MemoryPushTimerOptions<T extends TimedMessage> extends PushTimerOptions<T> {
  /** Messages waiting at once (default 100,000); beyond it a new one is refused (counted as `dropped`). */
  readonly maxPending?: number;
}

/** A timer per message in the process (memory mode): lost on restart. */
export class MemoryPushTimer<T extends TimedMessage> {
  readonly core: PushTimerCore<T>;
  #dropped = 0;
  readonly #maxPending: number;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;

  constructor(o: MemoryPushTimerOptions<T>) {
    this.core = new PushTimerCore(o);
    this.#maxPending = o.maxPending ?? 100_000;
  }

  get pending(): number {
    return this.#timers.size;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Watches a newly stored message. */
  schedule(item: T): void {
    if (this.#stopped) return;
    if (this.#timers.size >= this.#maxPending) {
      this.#dropped++;
      return;
    }
    this.#at(item, Math.max(0, item.ts + this.core.afterMs - Date.now()));
  }

  #at(item: T, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      void this.core.decide(item).then((d) => {
        if (d.kind === 'wait' && !this.#stopped) this.#at(item, d.ms);
      });
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
