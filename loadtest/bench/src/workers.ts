/**
 * The bench's side of its forked helpers: the load generators (hold the client sockets,
 * measure latency) and the publisher (sends at a rate). Every request to them has a
 * timeout: a reply that never comes must fail the phase, not hang the bench.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOPIC } from './common.js';
import type { Protocol } from './loadgen.js';
import type { BodySpec, Published, PublishCmd } from './publisher.js';

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_ASK_TIMEOUT_MS = 60_000;

function ask<T>(child: ChildProcess, cmd: object, reply: string, timeoutMs = DEFAULT_ASK_TIMEOUT_MS): Promise<T> {
  return new Promise((resolveReply, reject) => {
    const done = (): void => { clearTimeout(timer); child.off('message', onMsg); child.off('exit', onExit); };
    const onMsg = (m: { type: string; message?: string }): void => {
      if (m.type === reply) { done(); resolveReply(m as T); }
      else if (m.type === 'error') { done(); reject(new Error(m.message)); }
    };
    const onExit = (code: number | null): void => { done(); reject(new Error(`helper exited (${code}) before '${reply}'`)); };
    const timer = setTimeout(() => { done(); reject(new Error(`no '${reply}' within ${timeoutMs} ms`)); }, timeoutMs);
    child.on('message', onMsg);
    child.once('exit', onExit);
    child.send(cmd);
  });
}

function forkReady(file: string): Promise<ChildProcess> {
  const child = fork(join(here, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} not ready within 10 s`)), 10_000);
    child.once('message', () => { clearTimeout(timer); resolveReady(child); });
  });
}

export interface Connected { count: number; failed: number; ms: number; handshakes: number[]; extensions: string }
interface Collected { received: number; hist: [number, number][]; cpuMs: number; wallMs: number; bytesRead: number }
export interface Collection { received: number; hist: Map<number, number>; cpuMs: number[]; wallMs: number; bytesRead: number }

export class LoadGens {
  private constructor(readonly gens: ChildProcess[]) {}
  static async start(n: number): Promise<LoadGens> {
    return new LoadGens(await Promise.all(Array.from({ length: n }, () => forkReady('loadgen.js'))));
  }
  /** Opens one connection per token; `concurrency` handshakes in flight over all generators. */
  async connect(protocol: Protocol, urls: string[], tokens: string[], deflate: boolean, concurrency = 50): Promise<Connected> {
    const n = this.gens.length;
    // token j goes to generator j % n, keeping the URL of index j (node choice) intact
    const parts = this.gens.map((_, g) => tokens.map((t, j) => ({ t, url: urls[j % urls.length] as string })).filter((_, j) => j % n === g));
    // a slow handshake rate is a result, not a hang: allow 20 ms per connection per generator
    const timeoutMs = 30_000 + (tokens.length / n) * 20;
    const rs = await Promise.all(this.gens.map((g, i) => ask<Connected>(g, {
      type: 'connect', protocol, urls: parts[i]!.map((p) => p.url), tokens: parts[i]!.map((p) => p.t), topic: TOPIC,
      concurrency: Math.ceil(concurrency / n), deflate,
    }, 'connected', timeoutMs)));
    return merge(rs);
  }
  /** Reopens the connections the server closed; resolves with the sockets now held. */
  async reconnect(): Promise<Connected> {
    return merge(await Promise.all(this.gens.map((g) => ask<Connected>(g, { type: 'reconnect' }, 'connected'))));
  }
  /** Deliveries since the last collect, and sockets held. */
  async count(): Promise<{ received: number; open: number }> {
    const rs = await Promise.all(this.gens.map((g) => ask<{ received: number; open: number }>(g, { type: 'count' }, 'count')));
    return { received: rs.reduce((a, r) => a + r.received, 0), open: rs.reduce((a, r) => a + r.open, 0) };
  }
  /** Deliveries, latency histogram and CPU since the last collect; resets them. */
  async collect(): Promise<Collection> {
    const rs = await Promise.all(this.gens.map((g) => ask<Collected>(g, { type: 'collect' }, 'collected')));
    const hist = new Map<number, number>();
    for (const r of rs) for (const [k, v] of r.hist) hist.set(k, (hist.get(k) ?? 0) + v);
    return { received: rs.reduce((a, r) => a + r.received, 0), hist, cpuMs: rs.map((r) => r.cpuMs), wallMs: Math.max(...rs.map((r) => r.wallMs)), bytesRead: rs.reduce((a, r) => a + r.bytesRead, 0) };
  }
  async close(): Promise<void> {
    await Promise.all(this.gens.map((g) => ask(g, { type: 'close' }, 'closed')));
  }
  exit(): void {
    for (const g of this.gens) if (g.connected) g.send({ type: 'exit' });
  }
}

function merge(rs: Connected[]): Connected {
  return {
    count: rs.reduce((a, r) => a + r.count, 0), failed: rs.reduce((a, r) => a + r.failed, 0),
    ms: Math.max(...rs.map((r) => r.ms)), handshakes: rs.flatMap((r) => r.handshakes), extensions: rs[0]?.extensions ?? '',
  };
}

/** Publishes with at most this many requests in flight (keep-alive connections). */
export const PUBLISH_MAX_IN_FLIGHT = 64;

export class Publisher {
  private constructor(private readonly child: ChildProcess) {}
  static async start(): Promise<Publisher> {
    return new Publisher(await forkReady('publisher.js'));
  }
  /** Sends `messages` at `rate`/s; resolves when every request is answered (or timed out). */
  run(url: string, apiKey: string, rate: number, messages: number, body: BodySpec): Promise<Published> {
    const cmd: PublishCmd = { type: 'publish', url, apiKey, rate, messages, body, maxInFlight: PUBLISH_MAX_IN_FLIGHT };
    // the schedule itself, plus the publisher's own 10 s per-request timeout, plus slack
    return ask<Published>(this.child, cmd, 'published', (messages / rate) * 1000 * 3 + 30_000);
  }
  exit(): void {
    if (this.child.connected) this.child.send({ type: 'exit' });
  }
}

/**
 * Ends one target's run: closes the load generators' sockets, stops the helper processes,
 * then the target. Never throws for the helpers (the target's stop is what must happen).
 */
export async function endRun(gens: LoadGens, pub: Publisher | undefined, run: { stop(): Promise<void> }): Promise<void> {
  await gens.close().catch(() => undefined);
  gens.exit();
  pub?.exit();
  await run.stop();
}
