/**
 * The `herald` command: `dev` (all-in-one), `gateway`, `publish-api`, `token`, `publish`.
 * @module
 */
import { ConfigError } from '@herald/config';
import { runDev } from './commands/dev.js';
import { runToken } from './commands/token.js';
import { runPublish } from './commands/publish.js';
import { UsageError } from './args.js';

const USAGE = `usage: herald <command> [options]

commands:
  dev            gateway + publish API in one process on one port, embedded memory bus
                 (generates a development secret and API key when none is configured)
  gateway        the edge gateway node (production role)
  publish-api    the HTTP publish API (production role)
  token          mint a token:    herald token --sub u1 --topics 'news,orders.*' --ttl 1h
  publish        publish a message: herald publish --topic news '{"hello":1}'

Configuration comes from HERALD_* environment variables (see README).`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const env = process.env;
  switch (command) {
    case 'dev':
      await runDev(env);
      return -1; // keeps running
    case 'gateway': {
      const { runGateway } = await import('@herald/gateway');
      await runGateway(env);
      return -1;
    }
    case 'publish-api': {
      const { runPublishApi } = await import('@herald/publish-api');
      await runPublishApi(env);
      return -1;
    }
    case 'token':
      return runToken(rest, env);
    case 'publish':
      return runPublish(rest, env);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`herald: unknown command '${command}'\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`herald: ${err.message}\n`);
    else if (err instanceof UsageError || (err instanceof Error && err.name === 'ListenError')) process.stderr.write(`herald: ${err.message}\n`);
    else process.stderr.write(`herald: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
