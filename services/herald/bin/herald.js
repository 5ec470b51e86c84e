#!/usr/bin/env node
// The `herald` command. A committed shim, so npm links the bin at install time,
// before the TypeScript is built. It loads the built CLI (dist/cli.js) in this
// repository, or the bundled one (dist/herald.js) in the packed tarball.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
const bundled = new URL('../dist/herald.js', import.meta.url);
const entry = existsSync(built) ? built : existsSync(bundled) ? bundled : undefined;
if (entry === undefined) {
  process.stderr.write('herald: not built yet: run `npm run build` (or `npm start`) first\n');
  process.exit(1);
}
await import(entry.href);
