/** Steady publishers through the publish APIs: a 503 is retried with the same id and never counted as published. */
import type { ServiceProcess } from '@herald/testkit';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bed } from './processes.js';
import { API_KEY } from './tokens.js';

export type Target = { readonly user: string } | { readonly topic: string };

export function channelOf(t: Target): string {
  return 'user' in t ? `user:${t.user}` : `topic:${t.topic}`;
}

export interface PublisherStats {
  /** Publishes that got a 200 (each counted once, retries included). */
  published: number;
  /** 503 answers (and transport errors), each retried with the same id. */
  unavailable: number;
  /** Answers other than 200/503: a bug. */
  unexpected: string[];
}

/**
 * Steady publishers: `perApi` sequential loops on each publish API, each picking targets round
 * robin, one message every `intervalMs`. A publish is counted only on 200, with its seq.
 */
export class Publishers {
  /** channel → seqs of stored messages (from the 200 answers), deduplicated. */
  readonly seqs = new Map<string, Set<number>>();
  readonly stats: PublisherStats = { published: 0, unavailable: 0, unexpected: [] };
  #running = false;
  #loops: Promise<void>[] = [];
  #n = 0;
  /** When each 200 came back: to find publishes that were answered while a fault was on. */
  readonly okAt: number[] = [];

  constructor(
    readonly bed: Bed,
    readonly targets: readonly Target[],
    readonly tag: string,
    readonly opts: { perApi?: number; intervalMs?: number } = {},
  ) {}

  start(): void {
    this.#running = true;
    const perApi = this.opts.perApi ?? 2;
    for (let a = 0; a < this.bed.apis.length; a++) for (let l = 0; l < perApi; l++) this.#loops.push(this.#loop(a, l));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#loops = [];
  }

  /** One message to every target (after the steady publishing: each channel's last message reveals any gap). */
  async finalRound(): Promise<void> {
    await Promise.all(this.targets.map((t) => this.publishOne(0, t)));
  }

  get total(): number {
    let n = 0;
    for (const s of this.seqs.values()) n += s.size;
    return n;
  }

  async #loop(apiIndex: number, loop: number): Promise<void> {
    let i = loop;
    while (this.#running) {
      const target = this.targets[i++ % this.targets.length] as Target;
      await this.publishOne(apiIndex, target);
      await sleep(this.opts.intervalMs ?? 20);
    }
  }

  /** Publishes until a 200 (retrying on 503 or a transport error, same id, alternating APIs). */
  async publishOne(apiIndex: number, target: Target): Promise<number> {
    const id = `${this.tag}-${++this.#n}`;
    const body = JSON.stringify({ ...target, id, data: { id } });
    for (let attempt = 0; ; attempt++) {
      const api = this.bed.apis[(apiIndex + attempt) % this.bed.apis.length] as ServiceProcess;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`http://127.0.0.1:${api.port}/v1/publish`, {
          method: 'POST',
          headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        text = await res.text();
      } catch {
        this.stats.unavailable++;
        await sleep(100);
        continue;
      }
      if (res.status === 200) {
        const r = (JSON.parse(text) as { results: { ch: string; seq: number }[] }).results[0] as { ch: string; seq: number };
        let set = this.seqs.get(r.ch);
        if (!set) this.seqs.set(r.ch, (set = new Set()));
        if (!set.has(r.seq)) {
          set.add(r.seq);
          this.stats.published++;
          this.okAt.push(Date.now());
        }
        return r.seq;
      }
      if (res.status === 503) {
        this.stats.unavailable++;
        await sleep(100);
        continue;
      }
      this.stats.unexpected.push(`${res.status} ${text}`);
      if (attempt > 20) throw new Error(`publish failed: ${res.status} ${text}`);
      await sleep(100);
    }
  }
}
