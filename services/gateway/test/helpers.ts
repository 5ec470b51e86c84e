/** Test helpers: an in-process gateway on a real MemoryBus and uWS, hand-made JWTs, log capture. */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { createTokenVerifier } from '@herald/auth';
import { MemoryBus, type Bus } from '@herald/bus';
import { loadConfig } from '@herald/config';
import { createLogger, createMetricsRegistry, type Registry } from '@herald/telemetry';
import { gatewayConfigSchema, startGatewayServer, verifierConfigOf, type GatewayServer } from '../src/index.js';

export const SECRET = 'gateway-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** Seconds since the epoch. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * Builds a JWT by hand (as an attacker could): HS256 over `secret` by default, `alg: none`
 * unsigned when asked. Claims default to sub u1, topics news and orders.*, exp in 1 h.
 */
export function mint(claims: Record<string, unknown> = {}, opts: { secret?: string; alg?: 'HS256' | 'none' } = {}): string {
  const alg = opts.alg ?? 'HS256';
  const payload = { sub: 'u1', topics: ['news', 'orders.*'], iat: nowSec(), exp: nowSec() + 3600, ...claims };
  const input = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}`;
  if (alg === 'none') return `${input}.`;
  return `${input}.${createHmac('sha256', opts.secret ?? SECRET).update(input).digest('base64url')}`;
}

export interface TestGateway {
  readonly url: string;
  readonly httpUrl: string;
  readonly bus: Bus;
  readonly server: GatewayServer;
  readonly metrics: Registry;
  /** Every log line (JSON text). */
  readonly logs: string[];
  /** A metric's current value (sum over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  publish(channel: string, data: unknown): Promise<number>;
  close(): Promise<void>;
}

/** Starts a gateway in this process on a fresh MemoryBus; `env` overrides HERALD_* keys (without the prefix). */
export async function startTestGateway(env: Record<string, string> = {}, givenBus?: Bus): Promise<TestGateway> {
  const full: Record<string, string> = { JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE_S: '0', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'debug', ...env };
  const config = loadConfig(gatewayConfigSchema, Object.fromEntries(Object.entries(full).map(([k, v]) => ['HERALD_' + k, v])));
  const bus = givenBus ?? new MemoryBus({ history: { maxPerChannel: config.HISTORY_SIZE, maxAgeMs: config.HISTORY_TTL_MS } });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
      cb();
    },
  });
  const logger = createLogger({ level: config.LOG_LEVEL, node: 'gw-test', destination });
  const metrics = createMetricsRegistry();
  const server = await startGatewayServer({
    config, logger, bus, verifier: createTokenVerifier(verifierConfigOf(config)), metrics, nodeId: 'gw-test', host: '127.0.0.1', port: 0,
  });
  return {
    url: `ws://127.0.0.1:${server.port}/v1/ws`,
    httpUrl: `http://127.0.0.1:${server.port}`,
    bus,
    server,
    metrics,
    logs,
    async metric(name, labels = {}) {
      const m = metrics.getSingleMetric(name);
      if (!m) return 0;
      const data = await m.get();
      return data.values
        .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async publish(channel, data) {
      const r = await bus.publish({ channel, data: JSON.stringify(data) });
      return r.seq;
    },
    async close() {
      await server.close();
      await bus.close();
    },
  };
}

/** A bus that forwards every call to `bus`, except the ones given. */
function delegate(bus: Bus, overrides: Partial<Bus>): Bus {
  return {
    kind: bus.kind,
    epoch: () => bus.epoch(),
    publish: (r) => bus.publish(r),
    subscribe: (ch, h) => bus.subscribe(ch, h),
    unsubscribe: (ch) => bus.unsubscribe(ch),
    position: (ch) => bus.position(ch),
    history: (ch, q) => bus.history(ch, q),
    serveControl: (id, h) => bus.serveControl(id, h),
    disconnect: (u, c, r) => bus.disconnect(u, c, r),
    presence: (q) => bus.presence(q),
    members: bus.members,
    probe: (id, t) => bus.probe(id, t),
    isConnected: () => bus.isConnected(),
    onStatus: (l) => bus.onStatus(l),
    close: () => bus.close(),
    ...overrides,
  };
}

/**
 * A real MemoryBus whose history reads take `delayMs`: widens the window in which live
 * messages must be buffered during a recovery (NATS reads are slow the same way).
 */
export function withSlowHistory(bus: Bus, delayMs: number): Bus {
  return delegate(bus, {
    history: async (ch, q) => {
      const page = await bus.history(ch, q);
      await sleep(delayMs);
      return page;
    },
  });
}

/**
 * A real MemoryBus whose live delivery lags `lagMs` behind storage, as on NATS while a
 * gap repair delivers older messages: history already holds messages the live stream
 * has not delivered yet, and `position` says so.
 */
export function withLaggingLive(bus: Bus, lagMs: number): Bus {
  const delivered = new Map<string, number>();
  return delegate(bus, {
    subscribe: async (ch, h) => {
      await bus.subscribe(ch, (m) => {
        // equal delays fire in insertion order: the lag keeps seq order
        setTimeout(() => {
          delivered.set(ch, m.seq);
          h(m);
        }, lagMs);
      });
      delivered.set(ch, bus.position(ch) ?? 0);
    },
    unsubscribe: (ch) => {
      delivered.delete(ch);
      return bus.unsubscribe(ch);
    },
    position: (ch) => delivered.get(ch),
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
