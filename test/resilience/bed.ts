/**
 * The resilience test bed: a 3-node nats-server cluster (stream replicas 3), 3 gateway
 * processes and 2 publish-API processes (`herald gateway|publish-api`), a TCP
 * load balancer in the test that spreads client connections over the live gateways,
 * steady publishers through both publish APIs (a 503 is retried with the same id and
 * never counted as published), and SDK clients in Node that record every message per
 * channel.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import WebSocket from 'ws';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { signToken } from '@herald/auth';
import { HeraldClient, type HeraldErrorLike, type HeraldMessage } from '@herald/client';
import type { IncomingMessage } from 'node:http';
import { httpStatus, spawnService, startNatsCluster, waitFor, type NatsClusterHandle, type ServiceProcess } from '@herald/testkit';

export const CLI = resolve(import.meta.dirname, '../../services/herald/dist/cli.js');
export const SECRET = 'resilience-bed-secret-0123456789abcdef';
export const API_KEY = 'resilience-bed-api-key-0123456789';

/** Every token minted by a bed, to check that none reaches a log. */
export const MINTED_TOKENS = new Set<string>();

export async function mintToken(sub: string, topics: string[] = ['>'], ttlSec = 600): Promise<string> {
  const t = await signToken({ secret: SECRET, sub, topics, ttlSec });
  MINTED_TOKENS.add(t);
  return t;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Load balancer

interface Pair {
  readonly client: Socket;
  readonly backend: Socket;
  readonly port: number;
  frozen: boolean;
}

/**
 * A TCP proxy that spreads new connections round-robin over the backends it is told are
 * live (and tries the next one when a backend refuses). A backend that closes closes the
 * client side too, so clients see their connection drop and reconnect through the proxy to a
 * survivor. `freeze()` stops forwarding on every open connection without closing it (a
 * black-holed network path); connections opened later work normally.
 */
export class LoadBalancer {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #backends: number[] = [];
  #next = 0;
  port = 0;

  constructor(backends: number[]) {
    this.#backends = [...backends];
    this.#server = createServer((client) => this.#accept(client, 0));
  }

  /** `backlog`: the listen queue (Node's default 511; a crowd arriving at once needs more). */
  async listen(backlog?: number): Promise<this> {
    await new Promise<void>((r) => this.#server.listen({ port: 0, host: '127.0.0.1', ...(backlog === undefined ? {} : { backlog }) }, () => r()));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setBackends(ports: number[]): void {
    this.#backends = [...ports];
  }

  get backends(): readonly number[] {
    return this.#backends;
  }

  /** Open connections per backend port. */
  counts(): Map<number, number> {
    const m = new Map<number, number>();
    for (const p of this.#pairs) m.set(p.port, (m.get(p.port) ?? 0) + 1);
    return m;
  }

  #accept(client: Socket, tries: number): void {
    client.pause();
    client.on('error', () => undefined);
    if (this.#backends.length === 0 || tries >= Math.max(3, this.#backends.length * 2)) {
      client.destroy();
      return;
    }
    const port = this.#backends[this.#next++ % this.#backends.length] as number;
    const backend = connect({ port, host: '127.0.0.1' });
    let up = false;
    backend.once('error', () => {
      if (!up) this.#accept(client, tries + 1);
    });
    backend.once('connect', () => {
      up = true;
      const pair: Pair = { client, backend, port, frozen: false };
      this.#pairs.add(pair);
      backend.on('error', () => undefined);
      client.on('data', (d) => {
        if (!pair.frozen) backend.write(d);
      });
      backend.on('data', (d) => {
        if (!pair.frozen) client.write(d);
      });
      const end = (): void => {
        this.#pairs.delete(pair);
        if (pair.frozen) return; // a black hole says nothing
        client.destroy();
        backend.destroy();
      };
      client.once('close', () => {
        this.#pairs.delete(pair);
        backend.destroy();
      });
      backend.once('close', end);
      client.resume();
    });
  }

  /** Stops forwarding on every open connection, without closing anything. Returns how many. */
  freeze(): number {
    let n = 0;
    for (const p of this.#pairs) {
      p.frozen = true;
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.backend.destroy();
    }
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

export interface BedOptions {
  readonly gatewayEnv?: Record<string, string>;
  /** Extra environment for one gateway (`gw-1`, `gw-2`, `gw-3`), over `gatewayEnv`. */
  readonly gatewayEnvById?: Record<string, Record<string, string>>;
  /** Node flags for the gateway processes (e.g. `--max-old-space-size=256`). */
  readonly gatewayNodeArgs?: readonly string[];
  readonly apiEnv?: Record<string, string>;
  /** Listen queue of the load balancer (see LoadBalancer.listen). */
  readonly lbBacklog?: number;
}

export interface Gateway {
  readonly id: string;
  proc: ServiceProcess;
}

export class Bed {
  nats!: NatsClusterHandle;
  readonly gateways: Gateway[] = [];
  readonly apis: ServiceProcess[] = [];
  /** Every process that ever ran on the bed (restarted ones included), for the log checks. */
  readonly allProcs: ServiceProcess[] = [];
  lb!: LoadBalancer;
  readonly #opts: BedOptions;

  constructor(opts: BedOptions = {}) {
    this.#opts = opts;
  }

  #common(): Record<string, string> {
    return {
      HERALD_NATS_URL: this.nats.urls,
      HERALD_NATS_REPLICAS: '3',
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEYS: API_KEY,
      HERALD_HOST: '127.0.0.1',
      HERALD_PORT: '0',
      HERALD_LOG_LEVEL: 'info',
      HERALD_HISTORY_SIZE: '10000',
      HERALD_UNSUBSCRIBE_LINGER_MS: '0',
    };
  }

  async spawnGateway(id: string): Promise<ServiceProcess> {
    const proc = await spawnService({
      args: [...(this.#opts.gatewayNodeArgs ?? []), CLI, 'gateway'],
      env: {
        ...this.#common(), HERALD_NODE_ID: id, HERALD_HEARTBEAT_MS: '1000', HERALD_DRAIN_WINDOW_MS: '2000', HERALD_DRAIN_TIMEOUT_MS: '5000', HERALD_CANARY_INTERVAL_MS: '1000',
        ...(this.#opts.gatewayEnv ?? {}), ...(this.#opts.gatewayEnvById?.[id] ?? {}),
      },
      timeoutMs: 30_000,
    });
    this.allProcs.push(proc);
    return proc;
  }

  async start(): Promise<this> {
    this.nats = await startNatsCluster(3);
    const gws = await Promise.all(['gw-1', 'gw-2', 'gw-3'].map(async (id) => ({ id, proc: await this.spawnGateway(id) })));
    this.gateways.push(...gws);
    const apis = await Promise.all(
      ['api-1', 'api-2'].map((id) =>
        spawnService({ args: [CLI, 'publish-api'], env: { ...this.#common(), HERALD_NODE_ID: id, ...(this.#opts.apiEnv ?? {}) }, timeoutMs: 30_000 }),
      ),
    );
    this.apis.push(...apis);
    this.allProcs.push(...apis);
    this.lb = await new LoadBalancer(this.livePorts()).listen(this.#opts.lbBacklog);
    await Promise.all(this.allProcs.map((p) => waitFor(async () => (await status(p.port, '/readyz')) === 200, 20_000, `readiness of ${p.port}`)));
    return this;
  }

  livePorts(): number[] {
    return this.gateways.map((g) => g.proc.port);
  }

  gateway(id: string): Gateway {
    const g = this.gateways.find((x) => x.id === id);
    if (!g) throw new Error(`no gateway ${id}`);
    return g;
  }

  /** Starts a gateway again under the same id (new port) and puts it back behind the load balancer. */
  async restartGateway(id: string): Promise<void> {
    const g = this.gateway(id);
    g.proc = await this.spawnGateway(id);
    await waitFor(async () => (await status(g.proc.port, '/readyz')) === 200, 20_000, `readiness of ${id}`);
    this.lb.setBackends(this.livePorts());
  }

  /** Takes a gateway out of the load balancer (what a balancer does when /readyz fails). */
  unroute(id: string): void {
    const port = this.gateway(id).proc.port;
    this.lb.setBackends(this.lb.backends.filter((p) => p !== port));
  }

  /** The nats-server that leads the Herald stream (the worst one to lose). */
  async streamLeader(): Promise<string> {
    const nc = await natsConnect({ servers: this.nats.servers.map((x) => `127.0.0.1:${x.port}`) });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('HERALD');
      return info.cluster?.leader ?? '';
    } finally {
      await nc.close();
    }
  }

  async api(path: string, body?: unknown, apiIndex = 0): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`http://127.0.0.1:${(this.apis[apiIndex] as ServiceProcess).port}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  async stop(): Promise<void> {
    await this.lb?.close();
    await Promise.all(this.allProcs.map((p) => p.kill()));
    await this.nats?.stop();
  }
}

/** HTTP status of GET `path` on a bed process, 0 on a transport error. */
export const status = httpStatus;

// ---------------------------------------------------------------------------------------------
// Publishers

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

// ---------------------------------------------------------------------------------------------
// Clients

export interface Recorder {
  readonly user: string;
  readonly topics: readonly string[];
  readonly client: HeraldClient;
  /** channel → delivered seqs, in delivery order. */
  readonly got: Map<string, number[]>;
  readonly errors: HeraldErrorLike[];
  readonly unrecovered: string[];
  /** Time and node of every `connected` event. */
  readonly connects: { at: number; node: string }[];
  /** Every frame the client's sockets received, raw (for diagnosis), with the socket's number. */
  readonly wire: { at: number; sock: number; text: string }[];
}

export async function startClient(url: string, user: string, topics: readonly string[]): Promise<Recorder> {
  const token = await mintToken(user);
  const wire: Recorder['wire'] = [];
  let socks = 0;
  // the `ws` WebSocket, recording every frame it receives before the SDK sees it
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      const sock = ++socks;
      this.on('message', (d) => wire.push({ at: Date.now(), sock, text: String(d) }));
    }
  }
  const client = new HeraldClient({ url, token, WebSocket: RecordingWebSocket as never, transports: ['websocket'], minReconnectDelayMs: 100, maxReconnectDelayMs: 2000 });
  const rec: Recorder = { user, topics, client, got: new Map(), errors: [], unrecovered: [], connects: [], wire };
  const record = (m: HeraldMessage): void => {
    let l = rec.got.get(m.ch);
    if (!l) rec.got.set(m.ch, (l = []));
    l.push(m.seq);
  };
  client.on('user', record);
  client.on('error', (e) => rec.errors.push(e));
  client.on('unrecovered', ({ channel }) => rec.unrecovered.push(channel));
  client.on('connected', (info) => rec.connects.push({ at: Date.now(), node: info.node }));
  const ready = topics.map((t) => client.subscribe(t, record).ready);
  client.connect();
  const results = await Promise.all(ready);
  for (const r of results) if (!r.ok) throw new Error(`subscribe refused: ${JSON.stringify(r)}`);
  return rec;
}

export interface Tally {
  published: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  problems: string[];
}

/** Compares what each client holds with what was published to its channels. */
export function tally(recs: readonly Recorder[], pubs: Publishers): Tally {
  const t: Tally = { published: pubs.total, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, problems: [] };
  for (const r of recs) {
    for (const ch of [`user:${r.user}`, ...r.topics.map((x) => `topic:${x}`)]) {
      const expected = [...(pubs.seqs.get(ch) ?? [])].sort((a, b) => a - b);
      const got = r.got.get(ch) ?? [];
      t.delivered += got.length;
      const seen = new Set<number>();
      let last = 0;
      for (const s of got) {
        if (seen.has(s)) t.duplicated++;
        else if (s < last) t.outOfOrder++;
        seen.add(s);
        last = Math.max(last, s);
      }
      const exp = new Set(expected);
      const missing = expected.filter((s) => !seen.has(s));
      const extra = [...seen].filter((s) => !exp.has(s));
      t.lost += missing.length;
      if (missing.length > 0) t.problems.push(`${r.user} ${ch}: missing ${missing.slice(0, 5).join(',')} (${missing.length})`);
      if (extra.length > 0) t.problems.push(`${r.user} ${ch}: seqs never answered 200: ${extra.slice(0, 5).join(',')}`);
    }
  }
  return t;
}

/** Waits until every client holds every published message of its channels (or the timeout). */
export async function settle(recs: readonly Recorder[], pubs: Publishers, timeoutMs = 20_000): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = tally(recs, pubs);
    if (t.lost === 0 || Date.now() > deadline) return t;
    await sleep(100);
  }
}

/**
 * Waits until every client is connected (its subscriptions were acked in startClient). No
 * first message is needed: `welcome` and the `sub` acks give the SDK each channel's live
 * position, so a reconnect recovers even a channel that has delivered nothing yet.
 */
export async function warmUp(recs: readonly Recorder[], timeoutMs = 20_000): Promise<void> {
  await waitFor(() => recs.every((r) => r.connects.length > 0), timeoutMs, 'every client connected', 50);
}

/** Clients named `<tag>-u<i>`, each on its personal channel and two of `topicCount` topics. */
export async function startClients(url: string, tag: string, count: number, topicCount = 3): Promise<{ recs: Recorder[]; targets: Target[] }> {
  const topics = Array.from({ length: topicCount }, (_, k) => `${tag}.t${k}`);
  const recs = await Promise.all(Array.from({ length: count }, (_, i) => startClient(url, `${tag}-u${i}`, [topics[i % topicCount] as string, topics[(i + 1) % topicCount] as string])));
  const targets: Target[] = [...topics.map((topic) => ({ topic })), ...recs.map((r) => ({ user: r.user }))];
  return { recs, targets };
}

export function report(name: string, t: Tally, extra: Record<string, unknown> = {}): void {
  console.log(`[resilience] ${name}: ${JSON.stringify({ published: t.published, delivered: t.delivered, lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, ...extra })}`);
}

// ---------------------------------------------------------------------------------------------
// Crowds and their cost

/** Full jitter, as the SDK's backoff.ts: attempt n waits random(0, min(cap, base·2^n)). */
export function fullJitter(attempt: number, baseMs: number, capMs: number): number {
  return Math.floor(Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)));
}

/**
 * A cheap client for crowds: a raw `ws` socket that subscribes to its topics, reconnects
 * after a drop with the SDK's full-jitter backoff (same base and cap as startClient), and on
 * a refused upgrade waits at least the `Retry-After` the gateway sent. It does not recover or
 * record messages (the SDK clients of a test do that); it only counts them.
 */
export class RawClient {
  /** Time and node of every `welcome`. */
  readonly welcomes: { at: number; node: string }[] = [];
  /** HTTP status → refused upgrades. */
  readonly refusals = new Map<number, number>();
  /** Refusals with a Retry-After, and the retries it made wait longer than the backoff. */
  retryAfterSeen = 0;
  retryAfterStretched = 0;
  messages = 0;
  /** When each socket closed, and when each connection attempt began. */
  readonly drops: number[] = [];
  readonly attempts: number[] = [];
  #ws: WebSocket | undefined;
  #attempt = 0;
  #live = false;
  #subscribed = false;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onSubscribed: (() => void) | undefined;

  constructor(
    readonly wsUrl: string,
    readonly token: string,
    readonly topics: readonly string[],
    readonly opts: { baseMs: number; capMs: number } = { baseMs: 100, capMs: 2000 },
  ) {}

  /** Welcomed and subscribed on an open socket. */
  get live(): boolean {
    return this.#live && this.#subscribed;
  }

  /** Connects; resolves once the first subscription was acked. */
  start(): Promise<void> {
    const p = new Promise<void>((r) => (this.#onSubscribed = r));
    this.#open();
    return p;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.terminate();
  }

  #open(): void {
    if (this.#closed) return;
    let retryAfterMs = 0;
    this.attempts.push(Date.now());
    const ws = (this.#ws = new WebSocket(this.wsUrl, ['herald.v1', `herald.bearer.${this.token}`], { perMessageDeflate: false, handshakeTimeout: 10_000 }));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      this.refusals.set(status, (this.refusals.get(status) ?? 0) + 1);
      const ra = Number(res.headers['retry-after']);
      if (ra > 0) {
        this.retryAfterSeen++;
        retryAfterMs = ra * 1000;
      }
      res.resume();
      ws.terminate(); // aborts the handshake: `error`, then `close`
    });
    ws.on('error', () => undefined);
    ws.on('message', (d) => {
      if (this.#subscribed) {
        this.messages++;
        return;
      }
      const f = JSON.parse(String(d)) as { op: string; node?: string; id?: unknown };
      if (f.op === 'welcome') {
        this.#live = true;
        this.#attempt = 0;
        this.welcomes.push({ at: Date.now(), node: String(f.node) });
        ws.send(JSON.stringify({ op: 'sub', id: 1, topics: this.topics }));
      } else if (f.op === 'ack' && f.id === 1) {
        this.#subscribed = true;
        this.#onSubscribed?.();
        this.#onSubscribed = undefined;
      } else if (f.op === 'msg') this.messages++;
    });
    ws.on('close', () => {
      this.drops.push(Date.now());
      this.#live = this.#subscribed = false;
      if (this.#closed) return;
      const backoff = fullJitter(this.#attempt++, this.opts.baseMs, this.opts.capMs);
      if (retryAfterMs > backoff) this.retryAfterStretched++;
      this.#timer = setTimeout(() => this.#open(), Math.max(backoff, retryAfterMs));
    });
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, MB; undefined once it is gone. */
export function memoryMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples the VmRSS of processes every `intervalMs` and keeps each one's peak. */
export class RssSampler {
  readonly peakMb = new Map<number, number>();
  samples = 0;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pids: readonly number[], intervalMs = 50) {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    this.samples++;
    for (const pid of this.pids) {
      const m = memoryMb(pid);
      if (m) this.peakMb.set(pid, Math.max(this.peakMb.get(pid) ?? 0, m.rss));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#sample();
  }
}

/** The sum of one metric on a node's /metrics over the series whose labels contain `match` (e.g. `result="503"`). */
export async function metric(port: number, name: string, match = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) if ((m[1] ?? '').includes(match)) sum += Number(m[2]);
  return sum;
}

/** p-quantile of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/** The kernel's TcpExt counters (/proc/net/netstat), e.g. ListenOverflows: system-wide, so other processes count too. */
export function tcpExt(): Map<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const keys = (lines[i] as string).split(/\s+/);
    const vals = (lines[i + 1] as string).split(/\s+/);
    if (keys[0] !== 'TcpExt:') continue;
    keys.forEach((k, j) => j > 0 && out.set(k, Number(vals[j])));
  }
  return out;
}
