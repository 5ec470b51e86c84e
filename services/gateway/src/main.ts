#!/usr/bin/env node
/** Entry point of the gateway process: runGateway(process.env); a bad configuration prints its issues and exits 1. */
import { ConfigError } from '@herald/config';
import { runGateway } from './server.js';

runGateway(process.env).catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`herald gateway: ${err.message}\n`);
  else process.stderr.write(`herald gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
