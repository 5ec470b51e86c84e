#!/usr/bin/env node
/** Entry point of the publish API process: the only module that reads process.env. */
import { ConfigError } from '@herald/config';
import { runPublishApi } from './run.js';

runPublishApi(process.env).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`publish-api: invalid configuration\n${err.issues.map((i) => `  - ${i}\n`).join('')}`);
  } else {
    process.stderr.write(`publish-api: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
