/**
 * `herald check-config <gateway|publish-api|dev> [--json]`: validates the environment the way
 * the role does at start-up (plus the bus choice and unknown `HERALD_*` variables, which are
 * errors here while a starting role only warns about unknown ones) and prints the effective
 * configuration, secrets redacted. Starts nothing and writes no file.
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  busChoiceIssues, ConfigError, describeUnknownVariable, ENV_PREFIX, loadConfig, redactConfig, unknownVariables, type LoadConfigOptions, type Role,
} from '@herald/config';
import { gatewayConfigSchema } from '@herald/gateway';
import { publishApiConfigSchema } from '@herald/publish-api';
import { UsageError } from '../args.js';
import { DEV_CREDENTIALS_FILE, readDevCredentials } from '../dev-credentials.js';

type Env = Readonly<Record<string, string | undefined>>;

const ROLES: readonly Role[] = ['gateway', 'publish-api', 'dev'];

/** Where a value comes from. */
type Source = 'env' | 'default' | 'unset' | 'dev credentials';

interface Entry {
  readonly key: string;
  readonly value: unknown;
  readonly source: Source;
}

export interface RoleCheck {
  readonly role: Role;
  /** Every problem, one line each; empty when the role would start. */
  readonly issues: readonly string[];
  /** The effective configuration, redacted (empty when invalid). */
  readonly entries: readonly Entry[];
}

/** Loads one schema, turning a ConfigError into issues. */
function attempt<T>(load: () => T, issues: string[]): T | undefined {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const issue of err.issues) if (!issues.includes(issue)) issues.push(issue);
    return undefined;
  }
}

/** `herald dev` fills a missing key source and API keys from .herald/dev.json (or makes them on its first run). */
function devEnvironment(env: Env): { env: Env; filled: Set<string> } {
  const filled = new Set<string>();
  const out: Record<string, string | undefined> = { ...env };
  const creds = readDevCredentials(process.cwd());
  const hasKey = Boolean(env['HERALD_JWT_SECRET'] || env['HERALD_JWT_PUBLIC_KEY'] || env['HERALD_JWKS_URL']);
  if (!hasKey) {
    out['HERALD_JWT_SECRET'] = creds?.jwtSecret ?? 'x'.repeat(43); // the length of a generated secret
    filled.add('JWT_SECRET');
  }
  if (!env['HERALD_API_KEYS']) {
    out['HERALD_API_KEYS'] = creds?.apiKey ?? 'dev_' + 'x'.repeat(32);
    filled.add('API_KEYS');
  }
  return { env: out, filled };
}

/** Validates `env` for `role` and collects its effective configuration. */
export function checkRole(role: Role, env: Env, options: LoadConfigOptions = { unknownVariables: 'error' }): RoleCheck {
  const issues: string[] = [];
  // Unknown means unknown to every role: a shared environment carries the other role's keys.
  const strict = { unknownVariables: 'ignore' } as const;
  const { env: effective, filled } = role === 'dev' ? devEnvironment(env) : { env, filled: new Set<string>() };
  const configs: Readonly<Record<string, unknown>>[] = [];
  if (role !== 'publish-api') {
    const c = attempt(() => loadConfig(gatewayConfigSchema, effective, strict), issues);
    if (c) configs.push(c);
  }
  if (role !== 'gateway') {
    const c = attempt(() => loadConfig(publishApiConfigSchema, effective, strict), issues);
    if (c) configs.push(c);
  }
  if (options.unknownVariables === 'error') issues.push(...unknownVariables(env, schemaKeys('dev')).map(describeUnknownVariable));
  issues.push(...busChoiceIssues(role, env), ...unreadableFiles(configs));
  if (issues.length > 0) return { role, issues, entries: [] };
  // dev: one port and one set of shared keys, the gateway's; the publish API adds its own keys.
  const merged: Record<string, unknown> = {};
  for (const c of configs) for (const [k, v] of Object.entries(c)) if (!(k in merged)) merged[k] = v;
  const keys = new Set([...schemaKeys(role), ...configs.flatMap((c) => Object.keys(c))]);
  const redacted = redactConfig(merged);
  const entries: Entry[] = [...keys].map((key) => {
    const set = (env[ENV_PREFIX + key] ?? '') !== '';
    const source: Source = filled.has(key) ? 'dev credentials' : set ? 'env' : merged[key] === undefined ? 'unset' : 'default';
    return { key, value: redacted[key], source };
  });
  return { role, issues, entries };
}

/** `*_FILE` keys (NATS TLS, credentials) name files the role reads at start-up: check them now. */
function unreadableFiles(configs: readonly Readonly<Record<string, unknown>>[]): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  for (const c of configs) {
    for (const [key, value] of Object.entries(c)) {
      if (!key.endsWith('_FILE') || typeof value !== 'string' || seen.has(key)) continue;
      seen.add(key);
      try {
        accessSync(value, constants.R_OK);
      } catch (err) {
        issues.push(`${ENV_PREFIX}${key}: cannot read ${value} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  return issues;
}

/** Every key a role reads, including optional ones that are unset (zod omits those from the result). */
function schemaKeys(role: Role): string[] {
  const gw = Object.keys(gatewayConfigSchema.shape);
  const api = Object.keys(publishApiConfigSchema.shape);
  return role === 'gateway' ? gw : role === 'publish-api' ? api : [...gw, ...api];
}

function formatValue(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** `KEY=value   # default` lines, aligned. */
function formatEntries(entries: readonly Entry[]): string {
  const lines = entries.map((e) => [`${ENV_PREFIX}${e.key}=${formatValue(e.value)}`, e.source] as const);
  const width = Math.min(72, Math.max(...lines.map(([l]) => l.length)));
  return lines.map(([l, source]) => `${l.padEnd(width)}  # ${source === 'dev credentials' ? `dev credentials (${DEV_CREDENTIALS_FILE})` : source}`).join('\n');
}

export function runCheckConfig(argv: readonly string[], env: Env): number {
  const { values, positionals } = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
  const role = positionals[0];
  if (positionals.length !== 1 || !(ROLES as readonly string[]).includes(role ?? '')) {
    throw new UsageError(`check-config: give one role: ${ROLES.join(', ')}`);
  }
  const check = checkRole(role as Role, env);
  const valid = check.issues.length === 0;
  if (values.json) {
    const config = Object.fromEntries(check.entries.map((e) => [ENV_PREFIX + e.key, e.value ?? null]));
    process.stdout.write(JSON.stringify({ role: check.role, valid, config, issues: check.issues }, null, 2) + '\n');
  } else if (valid) {
    process.stdout.write(`# herald ${check.role}: the configuration is valid\n${formatEntries(check.entries)}\n`);
  } else {
    process.stderr.write(`herald: ${check.role}: invalid configuration:\n  - ${check.issues.join('\n  - ')}\n`);
  }
  return valid ? 0 : 1;
}
