// The `herald` command as a user runs it: help and version, check-config, unknown variables,
// operator errors as one line (NATS refused, JetStream off, no NATS for a gateway), the JSON
// 404 and a readable 413 for an oversized body sent without Content-Length.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, freePort, NATS_SERVER_BIN, runNode, spawnService, type ServiceProcess } from '@herald/testkit';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');
const SECRET = 'a-test-secret-of-32-characters!!';
const API_KEY = 'cli-test-key-0123456789';
const STACK_LINE = /^\s+at .+\(?.+:\d+:\d+\)?$/m;

describe('herald --version and --help', () => {
  it('prints the package version', async () => {
    const r = await runNode([CLI, '--version']);
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`herald ${pkg.version}`);
  });

  it.each(['dev', 'gateway', 'publish-api', 'token', 'publish', 'check-config'])('herald %s --help prints its help, starts nothing, exits 0', async (command) => {
    // A configuration that would start a server: help must win over it.
    const env = { HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_API_KEYS: API_KEY, HERALD_BUS: 'memory' };
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const r = await runNode([CLI, ...args], { env, timeoutMs: 10_000 });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: herald ${command}`));
      expect(r.stdout + r.stderr).not.toContain('listening');
      expect(r.stderr).toBe('');
    }
  });

  it('prints the overview for --help (stdout, exit 0) and without a command (stderr, exit 2)', async () => {
    const help = await runNode([CLI, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: herald <command>/);
    expect(help.stdout).toContain('check-config');
    const none = await runNode([CLI]);
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toMatch(/^usage: herald <command>/);
  });

  it('answers a bad option with one line and exit 2, no stack', async () => {
    for (const args of [['token', '--bogus'], ['publish', '--topic'], ['gateway', 'extra'], ['check-config', 'nope'], ['help', 'nope']]) {
      const r = await runNode([CLI, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^herald: /);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });
});

describe('herald check-config', () => {
  it('prints the effective gateway configuration with secrets redacted', async () => {
    const env = { HERALD_JWT_SECRET: SECRET, HERALD_NATS_URL: 'nats://app:hunter2@127.0.0.1:4222', HERALD_MAX_CONNECTIONS: '500' };
    const r = await runNode([CLI, 'check-config', 'gateway'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HERALD_MAX_CONNECTIONS=500\s+# env$/m);
    expect(r.stdout).toMatch(/^HERALD_HEARTBEAT_MS=25000\s+# default$/m);
    expect(r.stdout).toMatch(/^HERALD_JWT_SECRET=<redacted: 32 characters>\s+# env$/m);
    expect(r.stdout).toContain('nats://app:***@127.0.0.1:4222');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('hunter2');
  });

  it('prints JSON with --json, and validates dev without writing credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-check-'));
    try {
      const r = await runNode([CLI, 'check-config', 'dev', '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { role: string; valid: boolean; config: Record<string, unknown>; issues: string[] };
      expect(out).toMatchObject({ role: 'dev', valid: true, issues: [] });
      expect(out.config['HERALD_PORT']).toBe(8080);
      expect(out.config['HERALD_API_KEYS']).toBe('<redacted: 1 value>');
      expect(() => readFileSync(join(dir, '.herald/dev.json'))).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on an unknown variable, naming the closest known one, and on a gateway without NATS', async () => {
    const r = await runNode([CLI, 'check-config', 'gateway'], { env: { HERALD_JWT_SECRET: SECRET, HERALD_PROT: '80' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HERALD_PROT: not a Herald variable (did you mean HERALD_PORT?)');
    expect(r.stderr).toContain('HERALD_BUS=memory');
    expect(r.stdout).toBe('');
  });

  it('fails on a NATS credentials file it cannot read', async () => {
    const env = { HERALD_API_KEYS: API_KEY, HERALD_NATS_URL: 'nats://127.0.0.1:4222', HERALD_NATS_CREDS_FILE: '/nonexistent/herald.creds' };
    const r = await runNode([CLI, 'check-config', 'publish-api'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HERALD_NATS_CREDS_FILE: cannot read /nonexistent/herald.creds (ENOENT)');
  });
});

describe('operator errors are one line', () => {
  it('refuses `herald gateway` without NATS unless HERALD_BUS=memory', async () => {
    const r = await runNode([CLI, 'gateway'], { env: { HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('HERALD_NATS_URL: a gateway needs NATS');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).not.toContain('listening');
  });

  it('names NATS when it refuses the connection', async () => {
    const port = await freePort();
    const r = await runNode([CLI, 'gateway'], { env: { HERALD_PORT: '0', HERALD_JWT_SECRET: SECRET, HERALD_NATS_URL: `nats://127.0.0.1:${port}` } });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toBe(
      `herald: cannot reach NATS at nats://127.0.0.1:${port} (connection refused): is nats-server running there (with -js) and reachable from here?`,
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('says JetStream is off, at once, when nats-server runs without -js', async () => {
    const port = await freePort();
    const nats = await startPlainNats(port);
    try {
      const started = Date.now();
      const r = await runNode([CLI, 'publish-api'], { env: { HERALD_PORT: '0', HERALD_API_KEYS: API_KEY, HERALD_NATS_URL: `nats://127.0.0.1:${port}` } });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toBe(`herald: JetStream is not enabled on nats://127.0.0.1:${port}: start nats-server with -js`);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s of start-up retries
    } finally {
      nats.kill('SIGKILL');
    }
  });
});

describe('a lone `herald gateway` (HERALD_BUS=memory)', () => {
  it('starts when asked for explicitly and answers unknown routes with the JSON 404', async () => {
    const gw = await spawnService({ args: [CLI, 'gateway'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_JWT_SECRET: SECRET, HERALD_BUS: 'memory' } });
    try {
      const r = await fetch(`http://127.0.0.1:${gw.port}/v1/nope`, { method: 'POST', body: '{}' });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) as string } });
      expect((await fetch(`http://127.0.0.1:${gw.port}/healthz`)).status).toBe(200);
    } finally {
      await gw.kill();
    }
  });
});

/** nats-server without JetStream; resolves once it accepts clients. */
function startPlainNats(port: number): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolveStart, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (line.includes('Server is ready')) resolveStart(child);
    });
  });
}

describe('a running `herald dev`', () => {
  let dir: string;
  let dev: ServiceProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
    dev = await spawnService({ args: [CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: API_KEY, HERALD_PROT: '9' }, cwd: dir });
    port = dev.port;
  });
  afterAll(async () => {
    await dev?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warned about the unknown variable and started anyway', () => {
    expect(dev.lines).toContain('herald: warning: HERALD_PROT: not a Herald variable (did you mean HERALD_PORT?); ignored');
  });

  it('answers an unknown route with the JSON 404 of the error catalogue, and still upgrades /v1/ws', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/v1/nope'], ['GET', '/v1/publish/nope'], ['DELETE', '/healthz']] as const) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(await r.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) as string } });
    }
    const token = (await runNode([CLI, 'token', '--sub', 'u1'], { cwd: dir })).stdout.trim();
    const ws = await connectWs(`ws://127.0.0.1:${port}/v1/ws`, { token });
    expect(ws.ofOp('welcome')).toHaveLength(1);
    await ws.close();
  });

  it('answers an oversized chunked publish with a 413 the client reads (no reset)', async () => {
    // 4 MiB in 64 KiB writes, no Content-Length: the limit (1 MiB) is passed while the client still writes.
    const answer = await new Promise<{ status: number | undefined; body: string }>((resolveAnswer, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/publish', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolveAnswer({ status: res.statusCode, body }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'body_too_large' } });
  });
});
