/**
 * Loads one service's configuration from the environment: `HERALD_`-prefixed
 * variables, validated by the service's zod schema, every problem reported at once,
 * the result frozen.
 * @module
 */
import type { z } from 'zod';
import { describeUnknownVariable, unknownVariables, warnUnknownVariables } from './known.js';
import { ENV_PREFIX } from './prefix.js';

export { ENV_PREFIX };

export interface LoadConfigOptions {
  /**
   * What to do with a `HERALD_*` variable no part of Herald reads (a typo, most often):
   * `warn` (default) reports it once per process as a Node warning and starts anyway, so an
   * environment shared with a newer version still starts; `error` makes it a ConfigError
   * issue (`herald check-config`); `ignore` skips the check.
   */
  readonly unknownVariables?: 'warn' | 'error' | 'ignore';
}

/** The keys of an object schema (refinements keep the shape in zod 4); none for other schemas. */
function schemaKeys(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: unknown }).shape;
  return typeof shape === 'object' && shape !== null ? Object.keys(shape) : [];
}

export class ConfigError extends Error {
  /** One line per problem: `HERALD_PORT: expected a number`. */
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * Reads every `HERALD_X` variable into key `X` and validates the whole object.
 * Empty strings count as unset, so `HERALD_NATS_URL=` means "no NATS".
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  options: LoadConfigOptions = {},
): Readonly<z.infer<S>> {
  const mode = options.unknownVariables ?? 'warn';
  const unknownIssues = mode === 'error' ? unknownVariables(env, schemaKeys(schema)).map(describeUnknownVariable) : [];
  if (mode === 'warn') warnUnknownVariables(env, schemaKeys(schema));
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(ENV_PREFIX) && value !== undefined && value !== '') raw[key.slice(ENV_PREFIX.length)] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success || unknownIssues.length > 0) {
    const issues = parsed.success
      ? []
      : parsed.error.issues.map((i) => {
          const key = i.path.length > 0 ? ENV_PREFIX + i.path.join('.') : 'configuration';
          return `${key}: ${i.message}`;
        });
    throw new ConfigError([...issues, ...unknownIssues]);
  }
  return Object.freeze(parsed.data);
}
