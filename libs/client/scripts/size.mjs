// Prints each entry's size as src/size.test.ts measures it (esbuild, minified ESM, gzip -9):
// `node scripts/size.mjs` (minified and min+gzip bytes), `-v` adds each module's minified bytes.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('-v');
const { names } = JSON.parse(readFileSync(join(root, 'scripts/internal-props.json'), 'utf8'));
for (const entry of ['index', 'ws', 'inbox']) {
  const out = await build({
    entryPoints: [join(root, `src/${entry}.ts`)], bundle: true, format: 'esm', platform: 'neutral', target: 'es2022',
    minify: true, legalComments: 'none', write: false, logLevel: 'silent', metafile: true, mangleProps: new RegExp(`^(${names.join('|')})$`),
  });
  const min = out.outputFiles[0].contents;
  console.log(`${entry}: ${min.length} B minified, ${gzipSync(min, { level: 9 }).length} B min+gzip`);
  if (!verbose) continue;
  const inputs = Object.entries(Object.values(out.metafile.outputs)[0].inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
  for (const [file, { bytesInOutput }] of inputs) console.log(`  ${String(bytesInOutput).padStart(6)}  ${relative(root, file)}`);
}
