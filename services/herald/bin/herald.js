#!/usr/bin/env node
// The `herald` command. A committed shim, so npm links the bin at install time,
// before the TypeScript is built; it loads the built CLI.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('herald: not built yet: run `npm run build` (or `npm start`) first\n');
    process.exit(1);
  }
  throw err;
});
