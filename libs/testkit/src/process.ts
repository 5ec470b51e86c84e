/**
 * Service processes for integration tests: spawn a Node entry point with an
 * environment, wait for its `listening` log line, read its JSON logs, signal it.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Port from the `listening` log line. */
  readonly port: number;
  /** Every stdout line so far (pino JSON), and stderr lines. */
  readonly lines: string[];
  /** Parsed JSON log records so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the first log record (from now or the start) that matches. */
  waitLog(pred: (rec: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Wait for a log record with msg === this; default 'listening'. */
  readonly readyMsg?: string;
  readonly timeoutMs?: number;
  /** Working directory; default the current one. */
  readonly cwd?: string;
}

/** Spawns `node <args>` and resolves once it logged `listening` with a port. */
export function spawnService(opts: SpawnOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...opts.args], {
    env: { PATH: process.env['PATH'] ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string): void => {
    lines.push(line);
    for (const w of waiters) w();
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  let isExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      isExited = true; // before waking waiters, so they see it
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  const logs = (): Record<string, unknown>[] => {
    const out: Record<string, unknown>[] = [];
    for (const l of lines) {
      if (!l.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        /* partial line */
      }
    }
    return out;
  };
  const waitLog = (pred: (rec: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = logs().find(pred);
        if (hit) {
          done();
          resolve(hit);
          return true;
        }
        if (isExited) {
          done();
          reject(new Error(`process exited before the expected log line:\n${lines.slice(-20).join('\n')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for a log line:\n${lines.slice(-20).join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) waiters.add(listener);
    });
  const readyMsg = opts.readyMsg ?? 'listening';
  return waitLog((r) => r['msg'] === readyMsg && typeof r['port'] === 'number', opts.timeoutMs ?? 20_000).then((rec) => ({
    child,
    port: rec['port'] as number,
    lines,
    logs,
    waitLog,
    exited,
    signal: (sig) => void child.kill(sig),
    kill: async () => {
      if (!isExited) child.kill('SIGKILL');
      await exited;
    },
  }));
}

/** Runs `node <args>` to completion and returns its exit code and output. */
export function runNode(args: readonly string[], opts: { env?: Readonly<Record<string, string>>; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], {
      env: { PATH: process.env['PATH'] ?? '', ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} timed out`));
    }, opts.timeoutMs ?? 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
