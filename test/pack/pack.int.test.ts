// The packages as someone outside this repository gets them: `npm pack` of @herald/client and
// the bundled `herald` tarball (services/herald/scripts/pack.mjs), installed into an empty
// folder; `npx herald dev` answers /healthz there, and a TypeScript file imports the client
// with its types. publint and @arethetypeswrong/cli check the client's tarball.
// Needs the build (`npm test` builds first). The install prefers npm's cache; when the registry
// is unreachable and the cache lacks a package, the install test is skipped, not failed.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@herald/testkit';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = (name: string): string => join(ROOT, 'node_modules', '.bin', name);
const NETWORK_ERROR = /E(NOTFOUND|AI_AGAIN|CONNREFUSED|CONNRESET|TIMEDOUT|NETUNREACH|NOTCACHED)|network/i;

describe('packed packages, installed outside the repository', () => {
  let dir: string;
  let app: string;
  let clientTgz: string;
  let heraldTgz: string;
  let installError: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'herald-pack-'));
    const packed = await run('npm', ['pack', '-w', '@herald/client', '--json', '--pack-destination', dir], { cwd: ROOT });
    clientTgz = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    heraldTgz = (await run(process.execPath, [join(ROOT, 'services/herald/scripts/pack.mjs'), dir], { cwd: ROOT })).stdout.trim();
    app = join(dir, 'app');
    await run('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    try {
      await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', clientTgz, heraldTgz], { cwd: app, timeout: 120_000 });
    } catch (err) {
      const text = String((err as { stderr?: unknown }).stderr ?? err);
      if (!NETWORK_ERROR.test(text)) throw err;
      installError = text.split('\n').filter(Boolean).slice(-3).join(' ');
    }
  }, 150_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the client tarball passes publint and arethetypeswrong, with README and LICENSE', async () => {
    await run(BIN('publint'), ['run', clientTgz, '--strict'], { cwd: dir });
    await run(BIN('attw'), [clientTgz, '--profile', 'esm-only', '--format', 'ascii'], { cwd: dir });
    const { stdout } = await run('tar', ['tzf', clientTgz]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/herald-client.min.js']));
  });

  it('the herald tarball holds one bundle and depends only on published packages', async () => {
    await run(BIN('publint'), ['run', heraldTgz, '--strict'], { cwd: dir });
    const manifest = JSON.parse((await run('tar', ['xzOf', heraldTgz, 'package/package.json'])).stdout) as {
      license: string; bin: Record<string, string>; dependencies: Record<string, string>;
    };
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.bin).toEqual({ herald: './bin/herald.js' });
    expect(Object.keys(manifest.dependencies).filter((d) => d.startsWith('@herald/'))).toEqual([]);
    // The native builds stay outside the bundle, as dependencies under the names the loader requires.
    expect(manifest.dependencies).toMatchObject({ 'uws-20-57': expect.stringMatching(/^npm:/) as string, 'uws-20-30': expect.stringMatching(/^npm:/) as string });
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toBe((await run('tar', ['xzOf', heraldTgz, 'package/LICENSE'])).stdout);
  });

  it('`npx herald dev` runs from the empty folder and answers /healthz', async (ctx) => {
    if (installError !== undefined) ctx.skip(`npm install needs the registry: ${installError}`);
    expect((await run('npx', ['--no-install', 'herald', '--version'], { cwd: app })).stdout.trim()).toMatch(/^herald \d+\.\d+\.\d+/);
    const port = await freePort();
    // npx starts herald as a child: its own process group, so that the whole group is stopped.
    const child = spawn('npx', ['--no-install', 'herald', 'dev'], {
      cwd: app,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? dir, HERALD_PORT: String(port), HERALD_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const health = await waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
          return r?.status === 200 ? ((await r.json()) as unknown) : undefined;
        },
        30_000,
        '/healthz of the installed herald dev',
        100,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${output}`);
      });
      expect(health).toEqual({ status: 'ok' });
      // The dev page's SDK bundle comes from the tarball's own copy.
      expect((await fetch(`http://127.0.0.1:${port}/sdk/herald-client.js`)).status).toBe(200);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
  });

  it("imports { HeraldClient } from '@herald/client' with its types", async (ctx) => {
    if (installError !== undefined) ctx.skip(`npm install needs the registry: ${installError}`);
    writeFileSync(
      join(app, 'check.ts'),
      [
        "import { HeraldClient } from '@herald/client';",
        "const client: HeraldClient = new HeraldClient({ url: 'http://127.0.0.1:8080', token: 't' });",
        'export const state: string = client.state;',
        '// @ts-expect-error: the options need a url',
        'new HeraldClient({});',
      ].join('\n'),
    );
    const options = { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2022', 'DOM'], noEmit: true, skipLibCheck: false, types: [] };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['check.ts'] }));
    // skipLibCheck off: the package's own declarations must type-check where they are installed.
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app }).catch((err: unknown) => {
      throw new Error(`tsc failed in the installed package:\n${String((err as { stdout?: unknown }).stdout ?? err)}`);
    });
    const imported = await run(process.execPath, ['--input-type=module', '-e', "import('@herald/client').then((m) => console.log(typeof m.HeraldClient))"], { cwd: app });
    expect(imported.stdout.trim()).toBe('function');
  });
});
