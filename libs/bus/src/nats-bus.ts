/**
 * NatsBus: the Bus on NATS core + JetStream. History is one stream per partition
 * (HERALD_NATS_PARTITIONS, default 1). With one, the stream `HERALD` holds `herald.in.>`;
 * with N > 1, partition k is the stream `HERALD` (k = 0) or `HERALD_P<k>` holding
 * `herald.in.<k>.>` (subjects.ts). Each stream's RePublish option copies every stored
 * message to the partition's live subjects (`herald.out.>`, `herald.out.<k>.>`) with its
 * seq and prev, which gateway nodes subscribe to with core NATS, one subscription per channel.
 *
 * A channel always lives in one partition (subjects.ts, partitionOf), so its seqs, prevs,
 * dedupe window, history, gap repair and catch-up all stay within one stream; seqs of
 * channels of different partitions are never compared.
 * @module
 */
import { connect, type Authenticator, type NatsConnection, type Subscription, type TlsOptions } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { Logger } from '@herald/telemetry';
import type {
  Bus, BusStatus, ControlHandlers, HistoryPage, HistoryQuery, MessageHandler, PresenceQuery, PublishRequest, PublishResult,
} from './bus.js';
import { BusError } from './errors.js';
import { normalizeQuery, resolveHistoryOptions, type HistoryOptions } from './history.js';
import { Canary } from './nats-canary.js';
import type { MemberPlane } from './members.js';
import { NatsControl, withTimeout } from './nats-control.js';
import { redactUrl } from './nats-auth.js';
import { HistoryReader, type RawPage } from './nats-history.js';
import { JetStreamPublisher } from './nats-publisher.js';
import { decodeLive, LiveChannel } from './nats-live.js';
import { lightenCallbackSubscription } from './nats-subscription.js';
import {
  DEFAULT_STREAM, ensureStreamUntil, epochOfPartitions, msgIdOf, PartitionsChangedError, partitionStream, streamConfig, StreamOwnedError,
} from './nats-stream.js';
import { subjectScheme, type SubjectScheme } from './subjects.js';

export interface NatsBusOptions {
  /** NATS server URLs (`nats://host:port`), one or several of a cluster. */
  readonly servers: string | readonly string[];
  /** JetStream stream holding history (default `HERALD`); partition k ≥ 1 is `<stream>_P<k>`. */
  readonly stream?: string;
  /**
   * Number of partitions (default 1): channels are spread over this many streams by a
   * stable hash, so that several servers lead streams. Every process of an install must use
   * the same count: connect() refuses streams that record another one.
   */
  readonly partitions?: number;
  /** Stream replicas (default 1; 3 on a three-node cluster). */
  readonly replicas?: number;
  /** History window; applied to the stream at connect (every node should use the same). */
  readonly history?: Partial<HistoryOptions>;
  /** Timeout of each request to NATS, in ms (default 5000). */
  readonly timeoutMs?: number;
  /**
   * Publish linger, ms (default 1): while publishes keep coming, those within this long of the
   * last flush leave with the next one (JetStreamPublisher). 0: each event-loop turn flushes.
   */
  readonly publishLingerMs?: number;
  /** Connection name shown by the server's monitoring. */
  readonly name?: string;
  /** How long connect() retries setting up the stream while JetStream is not ready, in ms (default 30000). */
  readonly startupTimeoutMs?: number;
  /** Wait between reconnect attempts, in ms (default 250, plus up to 100 of jitter). */
  readonly reconnectTimeWaitMs?: number;
  /** Subject prefix of this install (default `herald`): installs sharing a NATS cluster need distinct prefixes and streams. */
  readonly prefix?: string;
  /** TLS to NATS (CA, client certificate): see openBus. */
  readonly tls?: TlsOptions;
  /** NATS credentials (creds file or NKey seed): see openBus. */
  readonly authenticator?: Authenticator;
  readonly logger?: Logger;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
/** Publish linger, ms: docs/operations.md, "Publish linger". */
export const DEFAULT_PUBLISH_LINGER_MS = 1;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
/** Channels checked at once for missed messages after a reconnect. */
const CATCH_UP_CONCURRENCY = 32;
/** How long the stream check after a reconnect retries while JetStream recovers. */
const RECONNECT_STREAM_WAIT_MS = 10_000;

interface LiveEntry {
  readonly live: LiveChannel;
  readonly inSubject: string;
  readonly partition: number;
  sub?: Subscription;
  ready?: Promise<void>;
}

/** The Bus on NATS + JetStream. Create it with {@link NatsBus.connect}. */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  /** One publisher, reader and stream configuration per partition, by partition. */
  readonly #publishers: readonly JetStreamPublisher[];
  readonly #jsm: JetStreamManager;
  readonly #readers: readonly HistoryReader[];
  readonly #control: NatsControl;
  readonly #canary: Canary;
  readonly #configs: readonly ReturnType<typeof streamConfig>[];
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  readonly #subjects: SubjectScheme;
  #epoch: string;
  #connected = true;
  #closed = false;
  #reconnects = 0;
  readonly #live = new Map<string, LiveEntry>();
  /** The history reader every live channel repairs gaps with. */
  readonly #readChannel = (channel: string, since: number, limit: number): Promise<RawPage> => this.#readRaw(channel, since, limit);
  readonly #statusListeners = new Set<(status: BusStatus) => void>();

  private constructor(
    nc: NatsConnection, jsm: JetStreamManager, configs: readonly ReturnType<typeof streamConfig>[], epoch: string, timeoutMs: number, subjects: SubjectScheme,
    publishLingerMs: number, log?: Logger,
  ) {
    this.#subjects = subjects;
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc, { timeout: timeoutMs });
    // A publisher per stream: each names its stream in Nats-Expected-Stream and checks it in the acknowledgement.
    this.#publishers = configs.map((c) => new JetStreamPublisher(nc, c.name, timeoutMs, publishLingerMs));
    this.#configs = configs;
    this.#epoch = epoch;
    this.#timeoutMs = timeoutMs;
    this.#log = log;
    this.#readers = configs.map((c) => new HistoryReader({ nc, jsm, stream: c.name, timeoutMs }));
    this.#control = new NatsControl(nc, timeoutMs, log, subjects);
    this.#canary = new Canary(nc, this.#js, timeoutMs, subjects);
    void this.#watchStatus();
    void nc.closed().then(() => this.#setStatus('closed'));
  }

  /**
   * Connects (reconnecting forever afterwards), and creates or updates the stream of every
   * partition. Rejects with BusError('unavailable'), or BusError('invalid') for a prefix or
   * partition count out of range.
   */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const history = resolveHistoryOptions(options.history);
    const subjects = subjectScheme(options.prefix, options.partitions ?? 1);
    const base = options.stream ?? DEFAULT_STREAM;
    const configs = Array.from({ length: subjects.partitions }, (_, k) => streamConfig(partitionStream(base, k), history, options.replicas ?? 1, subjects, k));
    const first = configs[0] as ReturnType<typeof streamConfig>;
    const servers = typeof options.servers === 'string' ? [options.servers] : [...options.servers];
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers,
        ...(options.name === undefined ? {} : { name: options.name }),
        timeout: timeoutMs,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectTimeWaitMs ?? 250,
        reconnectJitter: 100,
        pingInterval: 5_000,
        maxPingOut: 3,
        // Otherwise every request (each JetStream publish, each history read) builds two Error
        // objects with stack traces up front, for context should it fail: measured at about a
        // tenth of the publish API's CPU per publish. Our errors carry their own context.
        noAsyncTraces: true,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.authenticator === undefined ? {} : { authenticator: options.authenticator }),
      });
    } catch (err) {
      throw new BusError('unavailable', `cannot reach NATS at ${servers.map(redactUrl).join(',')}`, { cause: err });
    }
    // A server whose INFO does not announce JetStream gets one attempt (it succeeds when the
    // cluster routes the API elsewhere), not the start-up retries: the operator's fix is `-js`.
    const jetStreamHere = nc.info?.jetstream === true;
    try {
      const jsm = await jetstreamManager(nc, { timeout: timeoutMs, checkAPI: false });
      const deadline = jetStreamHere ? Date.now() + (options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS) : Date.now();
      const ensure = (config: ReturnType<typeof streamConfig>): Promise<StreamInfo> =>
        ensureStreamUntil(jsm, config, deadline, (err) => options.logger?.warn({ err, stream: config.name }, 'JetStream not ready; retrying')).catch((err: unknown) => {
          throw new StreamSetupError(config.name, err);
        });
      // Partition 0 first: a stream recording another partition count refuses the start before any other stream is made.
      const infos = [await ensure(first)];
      infos.push(...(await Promise.all(configs.slice(1).map(ensure))));
      options.logger?.info(
        { stream: first.name, partitions: configs.length, replicas: first.num_replicas, created: infos.map((i) => i.created) },
        configs.length === 1 ? 'bus stream ready' : 'bus streams ready',
      );
      return new NatsBus(nc, jsm, configs, epochOfPartitions(infos), timeoutMs, subjects, options.publishLingerMs ?? DEFAULT_PUBLISH_LINGER_MS, options.logger);
    } catch (err) {
      const server = nc.getServer();
      const where = /^[a-z]+:\/\//.test(server) ? server : `nats://${server}`;
      await nc.close().catch(() => undefined);
      const stream = err instanceof StreamSetupError ? err.stream : first.name;
      const cause = err instanceof StreamSetupError ? err.cause : err;
      // A configuration error says what to do in the message itself: the start-up failure prints only the message.
      const why = cause instanceof StreamOwnedError || cause instanceof PartitionsChangedError ? `: ${cause.message}` : '';
      const message = jetStreamHere ? `cannot set up JetStream stream ${stream}${why}` : `JetStream is not enabled on ${where}: start nats-server with -js`;
      throw new BusError('unavailable', message, { cause });
    }
  }

  epoch(): string {
    return this.#epoch;
  }

  async publish(request: PublishRequest): Promise<PublishResult> {
    this.#assertUsable();
    const { partition, in: subject } = this.#subjects.locate(request.channel);
    const ack = await (this.#publishers[partition] as JetStreamPublisher).publish(request.id === undefined
      ? { subject, data: request.data }
      : { subject, data: request.data, id: request.id, msgId: msgIdOf(request.channel, request.id) }, request.trace);
    return { channel: request.channel, seq: ack.seq, duplicate: ack.duplicate };
  }

  subscribe(channel: string, handler: MessageHandler): Promise<void> {
    try {
      this.#assertUsable();
      const route = this.#subjects.locate(channel);
      const existing = this.#live.get(channel);
      if (existing) {
        existing.live.handler = handler;
        return existing.ready ?? Promise.resolve();
      }
      const entry: LiveEntry = {
        inSubject: route.in,
        partition: route.partition,
        live: new LiveChannel(channel, handler, this.#readChannel, this.#log),
      };
      this.#live.set(channel, entry);
      entry.ready = this.#startLive(channel, route.out, entry);
      return entry.ready;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The channel's last seq is read before subscribing: a message stored between that
   * read and the subscription shows up as a gap at the next live message and is
   * repaired, so nothing published after subscribe() resolves can be missed, even
   * across a reconnect before the first live message.
   */
  async #startLive(channel: string, out: string, entry: LiveEntry): Promise<void> {
    try {
      entry.live.last = await this.#readerOf(entry.partition).lastSeq(entry.inSubject);
      if (this.#live.get(channel) !== entry) return;
      entry.sub = this.#nc.subscribe(out, {
        callback: (err, msg) => {
          if (err) return;
          const m = decodeLive(channel, msg);
          if (m) entry.live.accept(m);
        },
      });
      lightenCallbackSubscription(entry.sub); // one per channel with a subscriber: ~500 bytes less each
      await this.#flush();
      entry.ready = undefined; // settled: a later subscribe() of the channel resolves at once, nothing kept per channel
    } catch (err) {
      if (this.#live.get(channel) === entry) this.#live.delete(channel);
      entry.sub?.unsubscribe();
      entry.live.close();
      throw err instanceof BusError ? err : new BusError('unavailable', `cannot subscribe to ${channel}`, { cause: err });
    }
  }

  position(channel: string): number | undefined {
    return this.#live.get(channel)?.live.last;
  }

  unsubscribe(channel: string): Promise<void> {
    const entry = this.#live.get(channel);
    if (entry) {
      this.#live.delete(channel);
      entry.live.close();
      if (!this.#nc.isClosed()) entry.sub?.unsubscribe();
    }
    return Promise.resolve();
  }

  async history(channel: string, query?: HistoryQuery): Promise<HistoryPage> {
    this.#assertUsable();
    const q = normalizeQuery(query);
    const page = await this.#readRaw(channel, q.since, q.limit);
    return { epoch: this.#epoch, ...page };
  }

  async #readRaw(channel: string, since: number, limit: number): Promise<RawPage> {
    const { partition, in: subject } = this.#subjects.locate(channel);
    try {
      return await this.#readerOf(partition).read(channel, subject, since, limit);
    } catch (err) {
      throw err instanceof BusError ? err : new BusError('unavailable', `cannot read history of ${channel}`, { cause: err });
    }
  }

  async serveControl(nodeId: string, handlers: ControlHandlers): Promise<void> {
    this.#assertUsable();
    await this.#control.serve(nodeId, handlers);
  }

  async disconnect(user: string, code: number, reason: string): Promise<number> {
    this.#assertUsable();
    return await this.#control.ask('disconnect', { user, code, reason });
  }

  async presence(query: PresenceQuery): Promise<number> {
    this.#assertUsable();
    return await this.#control.ask('presence', query);
  }

  /** Presence member lists: the control side's core NATS subjects (nats-control.ts). */
  get members(): MemberPlane {
    return this.#control;
  }

  async probe(nodeId: string, timeoutMs: number): Promise<number> {
    this.#assertUsable();
    return await this.#canary.probe(nodeId, timeoutMs);
  }

  isConnected(): boolean {
    return this.#connected && !this.#closed;
  }

  onStatus(listener: (status: BusStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#live.values()) entry.live.close();
    this.#live.clear();
    // Drain only while connected (it waits for the server), and never longer than the timeout.
    try {
      if (!this.#connected) throw new BusError('unavailable', 'not connected: closing without drain');
      await withTimeout(this.#nc.drain(), this.#timeoutMs);
    } catch {
      await this.#nc.close().catch(() => undefined);
    }
    // acknowledgements that did not arrive before the drain ended will not come now
    for (const publisher of this.#publishers) publisher.close();
  }

  /** The history reader of a partition's stream. */
  #readerOf(partition: number): HistoryReader {
    return this.#readers[partition] as HistoryReader;
  }

  #assertUsable(): void {
    if (this.#closed) throw new BusError('closed', 'bus is closed');
    if (!this.#connected) throw new BusError('unavailable', 'not connected to NATS');
  }

  /** Round trip to the server: our subscriptions are in place once it resolves. */
  async #flush(): Promise<void> {
    try {
      await withTimeout(this.#nc.flush(), this.#timeoutMs);
    } catch (err) {
      throw new BusError('unavailable', 'NATS did not confirm the subscription', { cause: err });
    }
  }

  #setStatus(status: BusStatus): void {
    if (status === 'closed') this.#connected = false;
    for (const listener of this.#statusListeners) {
      try {
        listener(status);
      } catch (err) {
        this.#log?.error({ err, status }, 'bus status listener threw');
      }
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.#log?.warn({ server: s.server }, 'bus disconnected');
        this.#setStatus('disconnected');
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#log?.info({ server: s.server }, 'bus reconnected');
        this.#setStatus('reconnected');
        void this.#afterReconnect(++this.#reconnects);
      }
    }
  }

  /** Re-checks the streams (a new epoch resets every channel), then catches up on missed messages. */
  async #afterReconnect(generation: number): Promise<void> {
    const streams = this.#configs.map((c) => c.name);
    try {
      const deadline = Date.now() + RECONNECT_STREAM_WAIT_MS;
      const infos = await Promise.all(this.#configs.map((c) => ensureStreamUntil(this.#jsm, c, deadline)));
      const epoch = epochOfPartitions(infos);
      if (epoch !== this.#epoch) {
        this.#log?.warn({ streams, epoch, previous: this.#epoch }, 'bus stream was recreated: new epoch');
        this.#epoch = epoch;
        for (const entry of this.#live.values()) entry.live.reset();
      }
    } catch (err) {
      this.#log?.error({ err, streams }, 'bus stream check failed after reconnect');
    }
    const entries = [...this.#live.values()];
    for (let i = 0; i < entries.length; i += CATCH_UP_CONCURRENCY) {
      if (this.#closed || generation !== this.#reconnects) return;
      await Promise.all(entries.slice(i, i + CATCH_UP_CONCURRENCY).map(async (entry) => {
        try {
          if ((await this.#readerOf(entry.partition).lastSeq(entry.inSubject)) > entry.live.last) entry.live.catchUp();
        } catch (err) {
          this.#log?.warn({ err, channel: entry.live.channel }, 'catch-up check failed; relying on gap repair');
        }
      }));
    }
  }
}

/** A stream of one partition could not be set up (carries which). */
class StreamSetupError extends Error {
  readonly stream: string;
  constructor(stream: string, cause: unknown) {
    super(`cannot set up JetStream stream ${stream}`, { cause });
    this.name = 'StreamSetupError';
    this.stream = stream;
  }
}
