// deploy/docker/Dockerfile cannot be built here (no Docker); this checks what can be checked
// without it: base images, stages, what is copied and from where, the runtime user, the
// entry point and the files it needs, and the build context (.dockerignore).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { finalImage, imagePathInRepo, parseDockerfile, readRepo, repoPath, type DockerInstruction } from './helpers.js';

const instructions = parseDockerfile(readRepo('deploy/docker/Dockerfile'));
const image = finalImage(instructions);
const lastStage = Math.max(...instructions.map((i) => i.stage));
const inStage = (stage: number, keyword: string): DockerInstruction[] => instructions.filter((i) => i.stage === stage && i.keyword === keyword);

/** ARG defaults declared before the first FROM (the ones FROM may use). */
const globalArgs = Object.fromEntries(
  instructions
    .filter((i) => i.stage === -1 && i.keyword === 'ARG')
    .map((i) => i.args.split('=', 2) as [string, string | undefined])
    .map(([k, v]) => [k.trim(), (v ?? '').trim()]),
);
const expandArgs = (s: string): string => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => globalArgs[name] ?? '');

/** The build context as Docker sees it: .dockerignore patterns (no `!` exceptions used). */
const ignorePatterns = readRepo('.dockerignore')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
if (ignorePatterns.some((p) => p.startsWith('!'))) throw new Error('.dockerignore `!` exceptions are not modelled by this test: extend ignored()');
const ignoreRegexes = ignorePatterns.map((p) => {
  const body = p
    .replace(/^\/+|\/+$/g, '')
    .split(/(\*\*\/|\*\*|\*|\?)/)
    .map((part) => {
      if (part === '**/') return '(?:.*/)?';
      if (part === '**') return '.*';
      if (part === '*') return '[^/]*';
      if (part === '?') return '[^/]';
      return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${body}$`);
});
/** True when `path` (relative to the repository root) is left out of the build context. */
function ignored(path: string): boolean {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (ignoreRegexes.some((r) => r.test(prefix))) return true;
  }
  return false;
}

/** `COPY [--flags] src... dest` → flags and sources. */
function copyParts(args: string): { from?: string; sources: string[] } {
  const words = args.trim().split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from !== undefined ? { from } : {}), sources: rest.slice(0, -1) };
}

const workspaces = (['libs', 'services'] as const).flatMap((dir) => readdirSync(repoPath(dir)).map((name) => `${dir}/${name}`)).concat('loadtest/bench');

describe('Dockerfile deploy/docker/Dockerfile', () => {
  it('builds in several stages on the Node 24 Debian 13 (glibc 2.41) image the uWS 20.57 build needs', () => {
    const bases = instructions.filter((i) => i.keyword === 'FROM').map((i) => expandArgs(i.args.split(/\s+/)[0]!));
    expect(bases.length).toBeGreaterThanOrEqual(2);
    for (const base of bases) {
      expect(base).toMatch(/^node:24(\.\d+)*-trixie(-slim)?$/);
      expect(base).not.toMatch(/alpine|musl/);
    }
  });

  it('installs with npm ci and builds in the build stage, and ships production dependencies only', () => {
    const buildRuns = instructions.filter((i) => i.stage < lastStage && i.keyword === 'RUN').map((i) => i.args);
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(buildRuns.some((r) => /\bturbo run build\b|\bnpm run build\b/.test(r))).toBe(true);
    const finalRuns = inStage(lastStage, 'RUN').map((i) => i.args);
    const pruned = buildRuns.some((r) => /npm prune --omit=dev/.test(r)) || finalRuns.some((r) => /npm ci --omit=dev/.test(r));
    expect(pruned, 'npm prune --omit=dev (build) or npm ci --omit=dev (final)').toBe(true);
    expect(finalRuns.some((r) => /\bnpm (ci|install)\b(?!.*--omit=dev)/.test(r)), 'no dev install in the final stage').toBe(false);
  });

  it('copies only sources that exist and are part of the build context', () => {
    const copies = instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const { from, sources } = copyParts(c.args);
      expect(sources.length, c.args).toBeGreaterThan(0);
      if (from !== undefined) {
        // From the build stage, whose WORKDIR received the repository (COPY . .) and node_modules (npm ci).
        const buildDir = inStage(0, 'WORKDIR').at(-1)?.args ?? '/';
        for (const s of sources) {
          const rel = imagePathInRepo(s, buildDir);
          expect(existsSync(rel), `${s} (from ${from}) ↔ ${rel}`).toBe(true);
        }
        continue;
      }
      for (const s of sources) {
        if (s === '.') continue;
        expect(existsSync(repoPath(s)), `COPY source ${s}`).toBe(true);
        expect(ignored(s), `COPY source ${s} is excluded by .dockerignore`).toBe(false);
      }
    }
  });

  it('keeps what the build needs in the context and leaves local output out', () => {
    for (const need of ['package.json', 'package-lock.json', '.npmrc', 'turbo.json', 'tsconfig.base.json']) expect(ignored(need), need).toBe(false);
    for (const ws of workspaces) {
      expect(ignored(`${ws}/package.json`), `${ws}/package.json`).toBe(false);
      expect(ignored(`${ws}/src/index.ts`), `${ws}/src`).toBe(false);
      expect(ignored(`${ws}/tsconfig.json`), `${ws}/tsconfig.json`).toBe(false);
    }
    for (const out of ['node_modules', 'services/herald/dist/cli.js', 'libs/bus/node_modules/x', '.git/HEAD', '.herald/dev.json']) expect(ignored(out), out).toBe(true);
  });

  it('runs as a non-root user', () => {
    const [user] = image.user.split(':');
    expect(user).not.toMatch(/^(root|0)$/);
    expect(user, 'numeric, so Kubernetes can verify runAsNonRoot').toMatch(/^[1-9]\d*$/);
  });

  it('starts `herald <role>` under an init process, from a file the build produces', () => {
    expect(image.entrypoint[0]).toMatch(/(^|\/)tini$/);
    expect(image.entrypoint).toContain('--');
    expect(image.entrypoint).toContain('node');
    const cli = image.entrypoint.find((a) => a.endsWith('.js'));
    expect(cli).toBeDefined();
    expect(imagePathInRepo(cli!, image.workdir)).toBe(repoPath('services/herald/dist/cli.js'));
    expect(existsSync(repoPath('services/herald/dist/cli.js')), 'npm run build produced it').toBe(true);
    expect(image.cmd).toEqual(['gateway']);
    // The CLI knows both roles the chart runs.
    const help = execFileSync(process.execPath, [repoPath('services/herald/dist/cli.js'), '--help'], { encoding: 'utf8' });
    expect(help).toMatch(/^\s+gateway\s/m);
    expect(help).toMatch(/^\s+publish-api\s/m);
  });

  it('exposes the ports the chart uses', () => {
    const exposed = inStage(lastStage, 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split('/')[0]));
    const values = parseYaml(readRepo('deploy/helm/herald/values.yaml')) as { gateway: { port: number }; publishApi: { port: number } };
    expect(exposed).toContain(values.gateway.port);
    expect(exposed).toContain(values.publishApi.port);
  });
});
