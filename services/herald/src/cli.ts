/**
 * The `herald` command: `dev` (all-in-one), `gateway`, `publish-api`, `token`, `publish`,
 * `check-config`, `vapid`. `--help` anywhere before `--` prints help and exits 0 without starting
 * anything; commands load their code only when they run, so help and `--version` are instant.
 * @module
 */
import { createRequire } from 'node:module';
import { busChoiceIssues, ConfigError, warnUnknownVariables, type Role } from '@herald/config';
import { UsageError } from './args.js';
import { describeFailure } from './errors.js';
import { commandHelp, isCommand, USAGE, wantsHelp } from './help.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The version of the installed package (package.json sits one folder above this file, built or bundled). */
function version(): string {
  const pkg = createRequire(import.meta.url)('../package.json') as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/**
 * Before a role starts: unknown HERALD_* variables become one warning line each (loadConfig
 * then stays quiet about them), and the bus choice is checked with the other problems.
 */
async function preflight(role: Role, args: readonly string[], env: Env): Promise<void> {
  if (args.length > 0) throw new UsageError(`${role} takes no arguments (got '${args[0]}'); configure it with HERALD_* variables`);
  const [{ gatewayConfigSchema }, { publishApiConfigSchema }] = await Promise.all([import('@herald/gateway'), import('@herald/publish-api')]);
  const known = [...Object.keys(gatewayConfigSchema.shape), ...Object.keys(publishApiConfigSchema.shape)];
  warnUnknownVariables(env, known, (line) => process.stderr.write(`herald: warning: ${line}\n`));
  if (busChoiceIssues(role, env).length === 0) return;
  // Refused: report the bus choice together with every other problem, as a start-up would.
  const { checkRole } = await import('./commands/check-config.js');
  throw new ConfigError(checkRole(role, env, { unknownVariables: 'ignore' }).issues);
}

/** Runs a command; resolves with the exit status, or -1 for a server that keeps running. */
async function main(argv: readonly string[], env: Env): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    process.stdout.write(`herald ${version()}\n`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`unknown command '${topic}'`);
    // Asked for: stdout and 0. No command at all is a usage error: stderr and 2.
    (command === undefined ? process.stderr : process.stdout).write((topic === undefined ? USAGE : commandHelp(topic)) + '\n');
    return command === undefined ? 2 : 0;
  }
  if (!isCommand(command)) {
    process.stderr.write(`herald: unknown command '${command}'\n\n${USAGE}\n`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(commandHelp(command) + '\n');
    return 0;
  }
  switch (command) {
    case 'dev': {
      await preflight('dev', rest, env);
      const { runDev } = await import('./commands/dev.js');
      await runDev(env);
      return -1;
    }
    case 'gateway': {
      await preflight('gateway', rest, env);
      const { runGateway } = await import('@herald/gateway');
      await runGateway(env);
      return -1;
    }
    case 'publish-api': {
      await preflight('publish-api', rest, env);
      const { runPublishApi } = await import('@herald/publish-api');
      await runPublishApi(env);
      return -1;
    }
    case 'token':
      return (await import('./commands/token.js')).runToken(rest, env);
    case 'publish':
      return (await import('./commands/publish.js')).runPublish(rest, env);
    case 'check-config':
      return (await import('./commands/check-config.js')).runCheckConfig(rest, env);
    case 'vapid':
      return (await import('./commands/vapid.js')).runVapid(rest);
  }
}

const argv = process.argv.slice(2);
main(argv, process.env).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const failure = describeFailure(err, isCommand(argv[0]) ? argv[0] : undefined);
    process.stderr.write(failure.text + '\n');
    process.exitCode = failure.exitCode;
  },
);
