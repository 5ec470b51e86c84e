/**
 * Real nats-server processes for tests: one JetStream server in a temporary folder,
 * or a three-node cluster, on free ports, that a test can kill and restart.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { freePort, waitForPort } from './ports.js';

export const NATS_SERVER_BIN = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  /** SIGKILL: no goodbye to clients or peers. */
  kill(): Promise<void>;
  /** Starts the same server again (same ports, same store). */
  restart(): Promise<void>;
  /** Stops and deletes the store. */
  stop(): Promise<void>;
}

interface ServerSpec {
  name: string;
  port: number;
  clusterPort?: number;
  routes?: string[];
  storeDir: string;
  confPath: string;
  /** Extra configuration lines (TLS, authorization), appended verbatim. */
  extraConf?: readonly string[];
}

function writeConf(spec: ServerSpec): void {
  const lines = [
    `server_name: ${spec.name}`,
    `listen: 127.0.0.1:${spec.port}`,
    `jetstream { store_dir: "${spec.storeDir}", max_memory_store: 268435456, max_file_store: 1073741824 }`,
  ];
  if (spec.clusterPort !== undefined) {
    lines.push(`cluster { name: herald-test, listen: 127.0.0.1:${spec.clusterPort}, routes: [${(spec.routes ?? []).map((r) => `"${r}"`).join(', ')}] }`);
  }
  lines.push(...(spec.extraConf ?? []));
  writeFileSync(spec.confPath, lines.join('\n') + '\n');
}

/** Bytes of a server's stderr kept for the error when it exits at start. */
const STDERR_TAIL = 2000;

function startProcess(spec: ServerSpec): { child: ChildProcess; stderrTail: () => string } {
  const child = spawn(NATS_SERVER_BIN, ['-c', spec.confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-STDERR_TAIL);
  });
  return { child, stderrTail: () => tail };
}

/** Resolves once the server listens; rejects with its stderr when it exits first (a port taken, a bad config). */
async function listening(spec: ServerSpec, child: ChildProcess, stderrTail: () => string): Promise<void> {
  let onExit: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  const exitedFirst = new Promise<never>((_, reject) => {
    onExit = (code, signal) => reject(new Error(`nats-server ${spec.name} (port ${spec.port}) exited at start (${signal ?? `code ${code}`}): ${stderrTail().trim().slice(-500)}`));
    child.once('exit', onExit);
  });
  try {
    await Promise.race([waitForPort(spec.port, 15_000), exitedFirst]);
  } finally {
    if (onExit) child.off('exit', onExit);
    exitedFirst.catch(() => undefined); // settled or never: not an unhandled rejection
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function makeHandle(spec: ServerSpec, dir: string): { handle: NatsServerHandle; start: () => Promise<void> } {
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const started = startProcess(spec);
    child = started.child;
    await listening(spec, started.child, started.stderrTail);
  };
  const kill = async (): Promise<void> => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGKILL');
    await exited(c);
  };
  const handle: NatsServerHandle = {
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    name: spec.name,
    kill,
    restart: start,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return { handle, start };
}

export interface NatsServerOptions {
  /** Extra configuration lines (e.g. a `tls { … }` block, `authorization { … }`), appended verbatim. */
  readonly extraConf?: readonly string[];
}

/** One nats-server with JetStream in a fresh temporary folder. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-nats-'));
  const spec: ServerSpec = {
    name: 'n1', port: await freePort(), storeDir: join(dir, 'js'), confPath: join(dir, 'nats.conf'),
    ...(options.extraConf === undefined ? {} : { extraConf: options.extraConf }),
  };
  writeConf(spec);
  const { handle, start } = makeHandle(spec, dir);
  await start();
  return handle;
}

export interface NatsClusterHandle {
  readonly servers: readonly NatsServerHandle[];
  /** Every client URL, comma-separated (what HERALD_NATS_URL takes). */
  readonly urls: string;
  stop(): Promise<void>;
}

/** A cluster of `size` JetStream servers (default 3) routed to each other. */
export async function startNatsCluster(size = 3): Promise<NatsClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-nats-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const made = ports.map((port, i) => {
    const spec: ServerSpec = {
      name: `n${i + 1}`,
      port,
      clusterPort: clusterPorts[i] as number,
      routes: routes.filter((_, j) => j !== i),
      storeDir: join(dir, `js${i + 1}`),
      confPath: join(dir, `nats${i + 1}.conf`),
    };
    writeConf(spec);
    return makeHandle(spec, dir);
  });
  await Promise.all(made.map((m) => m.start()));
  const servers = made.map((m) => m.handle);
  await waitForJetStreamCluster(servers.map((s) => s.url), size);
  return {
    servers,
    urls: servers.map((s) => s.url).join(','),
    stop: async () => {
      await Promise.all(servers.map((s) => s.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once the cluster can place a stream on `replicas` servers. Listening ports come
 * up before the routes form and JetStream elects its meta leader; on a loaded machine that
 * takes seconds, and a stream created before then fails with "no suitable peers for
 * placement". Creating (then deleting) a small replicated stream is the exact test.
 */
async function waitForJetStreamCluster(urls: readonly string[], replicas: number, timeoutMs = 60_000): Promise<void> {
  const nc = await connect({ servers: [...urls], reconnect: true, maxReconnectAttempts: -1 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5_000, checkAPI: false });
    const name = 'TESTKIT_READY';
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await jsm.streams.add({ name, subjects: ['testkit.ready'], num_replicas: replicas, storage: StorageType.Memory });
        await jsm.streams.delete(name);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`JetStream cluster of ${replicas} not ready after ${timeoutMs} ms`, { cause: err });
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}
