// Packs the `herald` command as a tarball that installs anywhere: `npm run tarball -w herald [-- DIR]`
// (or `node services/herald/scripts/pack.mjs [DIR]`) writes DIR/herald-<version>.tgz (default:
// services/herald) and prints its path.
//
// The command is built from workspace packages (@herald/gateway, @herald/bus, ...) that are not
// published, so the tarball carries them bundled into one file (dist/herald.js, esbuild), and
// depends on the third-party packages they use, pinned to the versions this repository installs
// and tests (the uWebSockets.js builds keep their npm-alias specs: the loader requires them by
// those names). The manifest is generated in a staging folder (dist/pack): the workspace's own
// package.json keeps its workspace dependencies for development and stays private.
// Requires a build (`npm run build`): the workspace packages are bundled from their dist/.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(pkgDir, '..', '..');
const destination = resolve(process.argv[2] ?? pkgDir);
const stage = join(pkgDir, 'dist', 'pack');
const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const pkg = readJson(join(pkgDir, 'package.json'));

/** The folder of an installed package as seen from `fromDir` (Node's lookup: node_modules upwards). */
function installedDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked up from ${fromDir}): run npm ci`);
  }
}

/**
 * Walks the @herald/* runtime dependencies from the herald workspace and collects every
 * third-party dependency with the spec the tarball gets: the installed version, exactly, or
 * the `npm:` alias as declared.
 */
function thirdPartyDependencies() {
  const found = new Map(); // name -> { spec, by }
  const seen = new Set();
  const visit = (dir) => {
    const manifest = readJson(join(dir, 'package.json'));
    for (const [name, declared] of Object.entries(manifest.dependencies ?? {})) {
      if (name.startsWith('@herald/')) {
        const next = installedDir(name, dir);
        if (!seen.has(next)) {
          seen.add(next);
          visit(next);
        }
        continue;
      }
      const spec = declared.startsWith('npm:') ? declared : readJson(join(installedDir(name, dir), 'package.json')).version;
      const prior = found.get(name);
      if (prior && prior.spec !== spec) throw new Error(`${name}: ${prior.by} gets ${prior.spec}, ${manifest.name} gets ${spec}: align them`);
      found.set(name, { spec, by: manifest.name });
    }
  };
  visit(pkgDir);
  return Object.fromEntries([...found].sort(([a], [b]) => a.localeCompare(b)).map(([name, { spec }]) => [name, spec]));
}

const dependencies = thirdPartyDependencies();
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'bin'), { recursive: true });
mkdirSync(join(stage, 'dist'), { recursive: true });

const external = Object.keys(dependencies).flatMap((name) => [name, `${name}/*`]);
const result = await build({
  entryPoints: [join(pkgDir, 'src', 'cli.ts')],
  outfile: join(stage, 'dist', 'herald.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});
// Anything from node_modules in the bundle is a dependency some workspace forgot to declare.
const strays = Object.keys(result.metafile.inputs).filter((input) => input.includes('node_modules/'));
if (strays.length > 0) throw new Error(`third-party code bundled (declare it in the workspace's dependencies): ${strays.slice(0, 5).join(', ')}`);

// The dev page serves the SDK's browser bundle; the tarball carries a copy next to dist/herald.js.
copyFileSync(createRequire(join(pkgDir, 'package.json')).resolve('@herald/client/herald-client.min.js'), join(stage, 'dist', 'herald-client.min.js'));
copyFileSync(join(pkgDir, 'bin', 'herald.js'), join(stage, 'bin', 'herald.js'));
chmodSync(join(stage, 'bin', 'herald.js'), 0o755);
copyFileSync(join(pkgDir, 'README.md'), join(stage, 'README.md'));
copyFileSync(join(repo, 'LICENSE'), join(stage, 'LICENSE'));

const manifest = {
  name: pkg.name,
  version: pkg.version,
  description: pkg.description,
  license: pkg.license,
  repository: pkg.repository,
  keywords: pkg.keywords,
  type: 'module',
  engines: pkg.engines,
  bin: pkg.bin,
  exports: { './package.json': './package.json' },
  files: ['bin', 'dist', 'README.md', 'LICENSE'],
  dependencies,
};
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');

mkdirSync(destination, { recursive: true });
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
);
const tarball = join(destination, packed[0].filename);
process.stderr.write(`herald: ${tarball} (${packed[0].entryCount} files, ${(packed[0].size / 1024).toFixed(0)} KiB; bundle ${(readFileSync(join(stage, 'dist', 'herald.js')).length / 1024).toFixed(0)} KiB)\n`);
process.stdout.write(tarball + '\n');
