/** The entry point of a role's process: run it with process.env; a start-up failure prints one message and exits 1. */
import { ConfigError } from '@herald/config';

/** The start-up failure as printed: every configuration issue on its own line, otherwise the error's message. */
export function startupFailureText(name: string, err: unknown): string {
  if (err instanceof ConfigError) return `${name}: invalid configuration\n${err.issues.map((i) => `  - ${i}\n`).join('')}`;
  return `${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`;
}

/** Runs `run(process.env)`; on failure prints startupFailureText to stderr and exits 1. */
export function runMain(name: string, run: (env: NodeJS.ProcessEnv) => Promise<unknown>): void {
  run(process.env).catch((err: unknown) => {
    process.stderr.write(startupFailureText(name, err));
    process.exitCode = 1;
    process.exit(1);
  });
}
