/**
 * What the soak and the storm share: starting `herald <role>` processes (with extra node
 * flags such as a heap limit), reading /metrics, progress lines on stderr, bounded waits,
 * cleanup of everything started (also on failure and on Ctrl-C), percentiles, tables.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { httpStatus } from '@herald/testkit';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../../..');
export const CLI = join(ROOT, 'services/herald/dist/cli.js');
export const RESULTS_DIR = join(ROOT, 'loadtest/bench/results');
export const SECRET = 'bench-secret-0123456789abcdef0123';
export const API_KEY = 'bench-api-key-0123456789abcdef';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const started = Date.now();

/** A progress line on stderr, stamped with seconds since start. */
export function progress(tag: string, msg: string): void {
  process.stderr.write(`[${tag} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

/** Rejects after `ms` unless `p` settled first. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `cond` every `everyMs` until true; false when `timeoutMs` ran out. */
export async function pollUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= until) return false;
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup

type Undo = () => Promise<void> | void;
const undos: Undo[] = [];

/** Registers something to undo at exit (last registered, first undone). */
export function onCleanup(fn: Undo): void {
  undos.push(fn);
}

/** Runs every registered undo (each bounded to 10 s), once. */
export async function cleanup(): Promise<void> {
  for (const fn of undos.splice(0).reverse()) {
    try {
      await withTimeout(Promise.resolve(fn()), 10_000, 'cleanup step');
    } catch (err) {
      progress('cleanup', `failed: ${String(err)}`);
    }
  }
}

/** Runs `main`, cleans up whatever it started (on success, failure or a signal), exits with its code. */
export function runMain(tag: string, main: () => Promise<number>): void {
  let exiting = false;
  const finish = (code: number): void => {
    if (exiting) return;
    exiting = true;
    void cleanup().finally(() => process.exit(code));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => {
    progress(tag, `${sig}: stopping everything`);
    finish(130);
  });
  main().then(finish, (err: unknown) => {
    progress(tag, `FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    finish(2);
  });
}

// ---------------------------------------------------------------------------------------------
// Herald processes

export interface HeraldProc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  /** Resolves when the process exited (code or signal). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** The last output lines (stdout and stderr), for diagnosis. */
  tail(): string[];
  /** SIGKILL and wait (bounded). */
  kill(): Promise<void>;
}

/**
 * Spawns `node <nodeArgs> cli.js <role>` and resolves with the port of its `listening` log
 * line. Output is parsed only until then; afterwards only a short tail is kept.
 */
export function startHerald(name: string, role: string, env: Record<string, string>, nodeArgs: readonly string[] = [], timeoutMs = 30_000): Promise<HeraldProc> {
  const child = spawn(process.execPath, [...nodeArgs, CLI, role], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HERALD_PORT: '0',
      HERALD_HOST: '127.0.0.1',
      HERALD_JWT_SECRET: SECRET,
      HERALD_API_KEYS: API_KEY,
      HERALD_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: ROOT,
  });
  const lines: string[] = [];
  const keep = (line: string): void => {
    lines.push(line.length > 400 ? line.slice(0, 400) + '…' : line);
    if (lines.length > 40) lines.shift();
  };
  let alive = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      alive = false;
      r({ code, signal });
    }),
  );
  const kill = async (): Promise<void> => {
    if (!alive) return;
    child.kill('SIGKILL');
    await withTimeout(exited, 10_000, `${name} to exit`);
  };
  onCleanup(kill);
  createInterface({ input: child.stderr! }).on('line', keep);
  return new Promise<HeraldProc>((resolvePort, reject) => {
    let port = 0;
    const timer = setTimeout(() => reject(new Error(`${name}: no 'listening' line within ${timeoutMs} ms\n${lines.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      keep(line);
      if (port !== 0 || !line.includes('"listening"')) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; port?: number };
        if (rec.msg !== 'listening' || typeof rec.port !== 'number') return;
        port = rec.port;
        clearTimeout(timer);
        resolvePort({ name, child, pid: child.pid as number, port, exited, alive: () => alive, tail: () => [...lines], kill });
      } catch {
        /* not JSON */
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (port === 0) reject(new Error(`${name} exited (${code ?? signal}) before listening\n${lines.join('\n')}`));
    });
  });
}


export async function waitReady(p: HeraldProc, timeoutMs = 30_000): Promise<void> {
  if (!(await pollUntil(async () => (await httpStatus(p.port, '/readyz')) === 200, timeoutMs, 100))) {
    throw new Error(`${p.name} (port ${p.port}) not ready within ${timeoutMs} ms\n${p.tail().join('\n')}`);
  }
}

/** Prometheus text → samples keyed `name{labels}` (the `node` label dropped). */
export type Metrics = Map<string, number>;

export async function fetchMetrics(port: number): Promise<Metrics> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  const m: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const key = line.slice(0, sp).replace(/,?node="[^"]*"/, '').replace('{,', '{').replace('{}', '');
    m.set(key, Number(line.slice(sp + 1)));
  }
  return m;
}

/** The sample whose name ends with `suffix` (labels exactly as given, e.g. `{result="503"}`); undefined if absent. */
export function metric(m: Metrics, suffix: string): number | undefined {
  for (const [k, v] of m) if (k === suffix || k.endsWith('_' + suffix)) return v;
  return undefined;
}

/** POST a JSON body to the publish API; returns status and parsed body (bounded to 10 s). */
export async function postJson(port: number, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    /* keep the text */
  }
  return { status: res.status, json };
}

// ---------------------------------------------------------------------------------------------
// Numbers and output

// one percentile definition for every bench script
export { percentile } from './stats.js';

export const mb = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

export function envInt(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${v}`);
  return n;
}

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function writeResults(name: string, json: unknown, md: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
}
