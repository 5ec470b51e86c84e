/**
 * Loads one service's configuration from the environment: `HERALD_`-prefixed
 * variables, validated by the service's zod schema, every problem reported at once,
 * the result frozen.
 * @module
 */
import type { z } from 'zod';

export const ENV_PREFIX = 'HERALD_';

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
export function loadConfig<S extends z.ZodType>(schema: S, env: Readonly<Record<string, string | undefined>>): Readonly<z.infer<S>> {
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith(ENV_PREFIX) && value !== undefined && value !== '') raw[key.slice(ENV_PREFIX.length)] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const key = i.path.length > 0 ? ENV_PREFIX + i.path.join('.') : 'configuration';
        return `${key}: ${i.message}`;
      }),
    );
  }
  return Object.freeze(parsed.data);
}
