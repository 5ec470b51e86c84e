/**
 * Node liveness on nats-server 2.9 (no per-message TTL): each tracker incarnation rewrites its
 * heartbeat key `n.<incarnation>` in the presence bucket every `heartbeatMs`; every node watches
 * those keys and notes, on its own clock, when it last saw each one change. An incarnation not
 * seen for longer than grace + heartbeat is dead: the first survivor to notice sweeps every
 * presence entry, removes the dead incarnation's counts under compare-and-set (all survivors may
 * sweep at once: each entry changes once, so each user goes offline once), then deletes the
 * heartbeat key. Only receipt times on one clock are compared, so clock skew between nodes does
 * not matter here.
 * @module
 */
import { decodeToken, encodeToken } from '@herald/bus';
import type { Logger } from '@herald/telemetry';
import type { KV } from '@nats-io/kv';
import type { QueuedIterator } from '@nats-io/transport-node';
import type { KvWatchEntry } from '@nats-io/kv';
import type { PresenceTracker } from './tracker.js';

export interface LivenessOptions {
  readonly heartbeatMs: number;
  readonly logger?: Logger;
}

/** At most this many reaped incarnations are remembered (so a sweep does not repeat). */
const MAX_REAPED = 1000;

export function heartbeatKey(incarnation: string): string {
  return 'n.' + encodeToken(incarnation);
}

export class NodeLiveness {
  private readonly kv: KV;
  private readonly tracker: PresenceTracker;
  private readonly options: LivenessOptions;
  private readonly startedAt = Date.now();
  private readonly lastSeen = new Map<string, number>();
  private readonly reaped = new Set<string>();
  private lastBeatOk = Date.now();
  private startupSwept = false;
  private sweeping = false;
  private beatTimer: NodeJS.Timeout | undefined;
  private watch: QueuedIterator<KvWatchEntry> | undefined;
  /** Sweeps run (tests and logs). */
  sweeps = 0;

  constructor(kv: KV, tracker: PresenceTracker, options: LivenessOptions) {
    this.kv = kv;
    this.tracker = tracker;
    this.options = options;
  }

  /** Writes the first heartbeat (before the node tracks anything) and starts watching the others. */
  async start(): Promise<void> {
    await this.beat();
    this.watch = await this.kv.watch({ key: 'n.>' });
    void this.follow(this.watch);
    this.beatTimer = setInterval(() => void this.tick(), this.options.heartbeatMs);
    this.beatTimer.unref();
  }

  /** Stops heartbeating and deletes this incarnation's heartbeat (the others sweep its leftovers after the grace). */
  async stop(): Promise<void> {
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = undefined;
    this.watch?.stop();
    await this.kv.delete(heartbeatKey(this.tracker.incarnation)).catch(() => undefined);
  }

  /** Whether an incarnation is dead as seen from here now. */
  isDead(incarnation: string, now: number = Date.now()): boolean {
    if (incarnation === this.tracker.incarnation) return false;
    // Never seen: counted from this node's start, so leftovers of a past cluster are swept too.
    const seen = this.lastSeen.get(incarnation) ?? this.startedAt;
    return now - seen > this.tracker.graceMs + this.options.heartbeatMs;
  }

  private async follow(watch: QueuedIterator<KvWatchEntry>): Promise<void> {
    try {
      for await (const e of watch) {
        const incarnation = decodeToken(e.key.slice(2));
        if (incarnation === undefined || e.operation !== 'PUT') continue;
        this.lastSeen.set(incarnation, Date.now());
        this.reaped.delete(incarnation);
      }
    } catch (err) {
      this.options.logger?.warn({ err }, 'heartbeat watch ended');
    }
  }

  private async beat(): Promise<void> {
    await this.kv.put(heartbeatKey(this.tracker.incarnation), JSON.stringify({ at: Date.now() }));
    const now = Date.now();
    // Cut off longer than the grace: the others may have swept this node's counts; write them again.
    if (now - this.lastBeatOk > this.tracker.graceMs) this.tracker.resyncAll();
    this.lastBeatOk = now;
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
    } catch (err) {
      this.options.logger?.warn({ err }, 'presence heartbeat failed');
    }
    const now = Date.now();
    const dead = [...this.lastSeen.keys()].filter((n) => !this.reaped.has(n) && this.isDead(n, now));
    const startupDue = !this.startupSwept && now - this.startedAt > this.tracker.graceMs + this.options.heartbeatMs;
    if ((dead.length > 0 || startupDue) && !this.sweeping) await this.sweep(dead, startupDue);
  }

  private async sweep(dead: readonly string[], startup: boolean): Promise<void> {
    this.sweeping = true;
    try {
      const changed = await this.tracker.reap((n) => this.isDead(n));
      this.sweeps++;
      if (startup) this.startupSwept = true;
      for (const n of dead) {
        this.lastSeen.delete(n);
        if (this.reaped.size >= MAX_REAPED) this.reaped.clear();
        this.reaped.add(n);
        await this.kv.delete(heartbeatKey(n)).catch(() => undefined);
      }
      this.options.logger?.info({ dead: dead.length, startup, changed }, 'presence sweep done');
    } catch (err) {
      this.options.logger?.warn({ err }, 'presence sweep failed; retried on the next heartbeat');
    } finally {
      this.sweeping = false;
    }
  }
}
