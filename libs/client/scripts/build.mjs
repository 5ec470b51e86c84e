// Builds @herald/client: dist/index.js (ESM, bundled: @herald/protocol's close-code table and
// topic grammar are inlined, so the package has no runtime dependency), dist/*.d.ts (tsc,
// stripInternal), and dist/herald-client.min.js (minified, for <script type="module">).
// Prints the minified bundle's size, raw and gzipped.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

// Internal property names are shortened in every bundle (scripts/internal-props.json; size.test.ts measures the same way).
const { names } = JSON.parse(readFileSync(join(root, 'scripts/internal-props.json'), 'utf8'));
const common = { bundle: true, format: 'esm', platform: 'neutral', target: 'es2022', logLevel: 'warning', mangleProps: new RegExp(`^(${names.join('|')})$`) };
// Two entries: the whole client, and `@herald/client/ws` (WebSocket only, without the SSE fallback).
for (const [entry, min] of [['index', 'herald-client.min.js'], ['ws', 'herald-client-ws.min.js']]) {
  const entryPoints = [join(root, `src/${entry}.ts`)];
  await build({ ...common, entryPoints, outfile: join(dist, `${entry}.js`), sourcemap: true });
  await build({ ...common, entryPoints, outfile: join(dist, min), minify: true, legalComments: 'none' });
}
// `@herald/client/push`: the Web Push registration helper, its own entry (not in the bundles above).
await build({ ...common, entryPoints: [join(root, 'src/push.ts')], outfile: join(dist, 'push.js'), sourcemap: true });
// `@herald/client/inbox`: the whole client plus `client.inbox`, its own entry (the main bundles stay within budget), and its minified bundle.
await build({ ...common, entryPoints: [join(root, 'src/inbox.ts')], outfile: join(dist, 'inbox.js'), sourcemap: true });
await build({ ...common, entryPoints: [join(root, 'src/inbox.ts')], outfile: join(dist, 'herald-client-inbox.min.js'), minify: true, legalComments: 'none' });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const name of ['herald-client.min.js', 'herald-client-ws.min.js', 'herald-client-inbox.min.js']) {
  const min = readFileSync(join(dist, name));
  const gz = gzipSync(min, { level: 9 }).length;
  console.log(`@herald/client: dist/${name} ${min.length} B, ${(gz / 1024).toFixed(2)} KiB min+gz (${gz} B)`);
}
