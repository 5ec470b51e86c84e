/**
 * The targets the bench starts and stops itself, one after another: Herald (memory bus
 * and NATS), the raw-uWS ceiling, the by-hand ws + NATS server, socket.io. Each exposes
 * an HTTP publish endpoint and the pids whose CPU counts as "server CPU".
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { natsPids } from './procstat.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import type { Protocol } from './loadgen.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
const CLI = join(ROOT, 'services/herald/dist/cli.js');
export const SECRET = 'bench-secret-0123456789abcdef0123';
export const API_KEY = 'bench-api-key-0123456789abcdef';

export interface Running {
  readonly protocol: Protocol;
  /** WebSocket (or socket.io) URLs, one per gateway node. */
  readonly wsUrls: string[];
  /** Full publish URL (POST). */
  readonly publishUrl: string;
  /** /metrics URLs of the gateway nodes (Herald only). */
  readonly metricsUrls: string[];
  /** Every process whose CPU is server CPU (gateways, publish API, nats-server). */
  readonly pids: number[];
  /** The processes holding the sockets (RSS per connection). */
  readonly socketPids: number[];
  /** Every server process with its role (`gateway`, `publish-api`, `nats-server`, `server`), for the CPU split. */
  readonly roles: readonly { readonly role: string; readonly pid: number }[];
  stop(): Promise<void>;
}

export interface TargetDef {
  readonly key: string;
  readonly name: string;
  /**
   * `nodeArgs` go before the script (e.g. `--cpu-prof`); with any, stop() ends the process with SIGTERM so it can write its profile.
   * `wrap` (Herald on NATS only): a command put before `node` for a role (`gateway-0`, `publish-api`), e.g. valgrind.
   */
  start(extraEnv?: Record<string, string>, nodeArgs?: readonly string[], wrap?: Readonly<Record<string, readonly string[]>>): Promise<Running>;
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '',
    HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY,
    HERALD_LOG_LEVEL: 'info', HERALD_UPGRADE_RATE: '100000', HERALD_MAX_CONNECTIONS_PER_USER: '1000',
    ...(process.env['BENCH_HERALD_ENV'] ? JSON.parse(process.env['BENCH_HERALD_ENV']) as Record<string, string> : {}),
    ...extra,
  };
}

interface Proc { child: ChildProcess; port: number }

/** Spawns `[...wrap] node args…` and resolves with the port of its `listening` log line. */
function startProc(name: string, args: string[], env: NodeJS.ProcessEnv, wrap: readonly string[] = []): Promise<Proc> {
  const [cmd, ...pre] = wrap.length > 0 ? [...wrap, process.execPath] : [process.execPath];
  const child = spawn(cmd as string, [...pre, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let errText = '';
  child.stderr?.on('data', (d: Buffer) => { if (errText.length < 4000) errText += d.toString(); });
  return new Promise((resolvePort, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg === 'listening' && typeof rec.port === 'number') resolvePort({ child, port: rec.port });
      } catch { /* not JSON */ }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${errText.slice(0, 1000)}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await gone;
}

/** SIGTERM first (a profiled process writes its profile on exit), SIGKILL after `graceMs`. */
async function stopProc(child: ChildProcess, graceful: boolean, graceMs = 15_000): Promise<void> {
  if (!graceful || child.exitCode !== null || child.signalCode !== null) return kill(child);
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

async function waitReady(port: number, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} not ready within ${timeoutMs} ms`);
}

async function nats(): Promise<{ handle: NatsServerHandle; pid: number }> {
  const handle = await startNatsServer();
  return { handle, pid: natsPids([handle.port])[0] as number };
}

const plain = (key: string, name: string, file: string, protocol: Protocol, withNats: boolean): TargetDef => ({
  key,
  name,
  async start(extraEnv = {}, nodeArgs = []) {
    const n = withNats ? await nats() : undefined;
    const p = await startProc(name, [...nodeArgs, join(here, file)], baseEnv({ ...extraEnv, ...(n ? { HERALD_NATS_URL: n.handle.url } : {}) }));
    const prefix = protocol === 'sio' ? 'http' : 'ws';
    return {
      protocol,
      wsUrls: [`${prefix}://127.0.0.1:${p.port}${protocol === 'sio' ? '' : '/v1/ws'}`],
      publishUrl: `http://127.0.0.1:${p.port}/publish`,
      metricsUrls: [],
      pids: [p.child.pid as number, ...(n ? [n.pid] : [])],
      socketPids: [p.child.pid as number],
      roles: [{ role: 'server', pid: p.child.pid as number }, ...(n ? [{ role: 'nats-server', pid: n.pid }] : [])],
      async stop() {
        await stopProc(p.child, nodeArgs.length > 0);
        await n?.handle.stop();
      },
    };
  },
});

export const ceiling = plain('ceiling', 'ceiling (raw uWS)', 'ceiling.js', 'herald', false);
export const byHand = plain('byhand', 'by hand (ws + NATS + jose)', 'byhand.js', 'herald', true);
export const socketIo = plain('socketio', 'socket.io (rooms)', 'sio.js', 'sio', false);

export const heraldDev: TargetDef = {
  key: 'herald-dev',
  name: 'Herald dev (memory bus)',
  async start(extraEnv = {}, nodeArgs = []) {
    const p = await startProc('herald dev', [...nodeArgs, CLI, 'dev'], baseEnv(extraEnv));
    await waitReady(p.port);
    return {
      protocol: 'herald',
      wsUrls: [`ws://127.0.0.1:${p.port}/v1/ws`],
      publishUrl: `http://127.0.0.1:${p.port}/v1/publish`,
      metricsUrls: [`http://127.0.0.1:${p.port}/metrics`],
      pids: [p.child.pid as number],
      socketPids: [p.child.pid as number],
      roles: [{ role: 'server', pid: p.child.pid as number }],
      stop: () => stopProc(p.child, nodeArgs.length > 0),
    };
  },
};

/** `herald gateway` × nodes + `herald publish-api` + nats-server (all three in server CPU). */
export function heraldNats(nodes = 1): TargetDef {
  return {
    key: nodes === 1 ? 'herald-nats' : `herald-nats-${nodes}`,
    name: nodes === 1 ? 'Herald on NATS (gateway + publish-api + nats-server)' : `Herald on NATS, ${nodes} gateways`,
    async start(extraEnv = {}, nodeArgs = [], wrap = {}) {
      const n = await nats();
      const env = (id: string): NodeJS.ProcessEnv => baseEnv({ ...extraEnv, HERALD_NATS_URL: n.handle.url, HERALD_NODE_ID: id });
      const gws: Proc[] = [];
      const graceful = nodeArgs.length > 0 || Object.keys(wrap).length > 0;
      // each process profiles into its own directory (profile.ts passes --cpu-prof-dir=<dir>)
      const argsFor = (role: string): string[] => nodeArgs.map((a) => (a.startsWith('--cpu-prof-dir=') ? `${a}/${role}` : a));
      const stopAll = async (): Promise<void> => {
        await Promise.all([...gws.map((g) => stopProc(g.child, graceful)), ...(api ? [stopProc(api.child, graceful)] : [])]);
        await n.handle.stop();
      };
      let api: Proc | undefined;
      try {
        for (let i = 0; i < nodes; i++) gws.push(await startProc(`gateway ${i}`, [...argsFor(`gateway-${i}`), CLI, 'gateway'], env(`gw-${i}`), wrap[`gateway-${i}`]));
        api = await startProc('publish-api', [...argsFor('publish-api'), CLI, 'publish-api'], env('api'), wrap['publish-api']);
        for (const g of gws) await waitReady(g.port);
        await waitReady(api.port);
      } catch (err) {
        await stopAll();
        throw err;
      }
      const a = api;
      return {
        protocol: 'herald',
        wsUrls: gws.map((g) => `ws://127.0.0.1:${g.port}/v1/ws`),
        publishUrl: `http://127.0.0.1:${a.port}/v1/publish`,
        metricsUrls: gws.map((g) => `http://127.0.0.1:${g.port}/metrics`),
        pids: [...gws.map((g) => g.child.pid as number), a.child.pid as number, n.pid],
        socketPids: gws.map((g) => g.child.pid as number),
        roles: [...gws.map((g) => ({ role: 'gateway', pid: g.child.pid as number })), { role: 'publish-api', pid: a.child.pid as number }, { role: 'nats-server', pid: n.pid }],
        stop: stopAll,
      };
    },
  };
}
