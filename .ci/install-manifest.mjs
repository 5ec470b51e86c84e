#!/usr/bin/env node
// Lets the second CI runtime reuse the first one's `npm ci`, and proves it may.
//
// The repository is bind-mounted into the Node 24 root, so both runs share one node_modules.
// `npm ci` on Node 24 would delete and rewrite it; what it writes differs from Node 20's only
// where npm decides by the runtime:
//   - optional packages whose `engines` admit one Node version and not the other (npm skips
//     them as inert: with this lockfile @napi-rs/lzma-linux-x64-gnu, rollup's optional
//     dependency for Node ^22.20 || ^24.12, is only installed on Node 24);
//   - install scripts, which run under the installing Node (a native addon built per ABI).
// os, cpu and libc decide the rest and are the same in both (checked below).
//
//   node .ci/install-manifest.mjs record   # after `npm ci`: node_modules/.herald-ci/install.json
//   node .ci/install-manifest.mjs ready    # exit 0 if a record exists for this lockfile, npm and platform
//   node .ci/install-manifest.mjs check    # after `npm install --no-save` and `npm rebuild` of the
//                                          # packages with install scripts on the other runtime: exit 0
//                                          # only if every file differs from the record for a reason above
//
// On any failure CI falls back to a plain `npm ci`. Caches that tools write under
// node_modules during a test run (.vite, .cache) are removed by `check`: `npm ci` removes them too.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const RECORD = join(ROOT, 'node_modules/.herald-ci/install.json');
const CACHES = ['node_modules/.vite', 'node_modules/.cache'];

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const npmVersion = () => execFileSync('npm', ['--version'], { cwd: ROOT, encoding: 'utf8' }).trim();
const lock = () => JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

function platform() {
  const header = process.report.getReport().header;
  return { os: process.platform, cpu: process.arch, libc: header.glibcVersionRuntime ? 'glibc' : 'musl' };
}

/** Every node_modules folder of the workspace (root and per package), as repository paths. */
function nodeModulesDirs() {
  const dirs = ['node_modules'];
  for (const ws of lock().packages[''].workspaces ?? []) {
    const base = ws.replace(/\/\*$/, '');
    const parents = ws.endsWith('/*') ? readdirSync(join(ROOT, base)).map((d) => join(base, d)) : [base];
    for (const p of parents) if (existsSync(join(ROOT, p, 'node_modules'))) dirs.push(join(p, 'node_modules'));
  }
  return dirs;
}

/** path -> sha256 of a file, `link:<target>` of a symlink, for everything under node_modules. */
function manifest() {
  const out = {};
  const walk = (rel) => {
    for (const entry of readdirSync(join(ROOT, rel), { withFileTypes: true })) {
      const path = join(rel, entry.name);
      if (path === 'node_modules/.herald-ci') continue;
      if (entry.isSymbolicLink()) out[path] = `link:${readlinkSync(join(ROOT, path))}`;
      else if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out[path] = `${(lstatSync(join(ROOT, path)).mode & 0o777).toString(8)}:${sha256(readFileSync(join(ROOT, path)))}`;
    }
  };
  for (const dir of nodeModulesDirs()) walk(dir);
  return out;
}

/** npm's own engine check (npm-install-checks, as arborist uses it), from the running npm. */
function checkEngineOf() {
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  const require = createRequire(join(npmRoot, 'npm/package.json'));
  return require('npm-install-checks').checkEngine;
}

const lockSha = () => sha256(readFileSync(join(ROOT, 'package-lock.json')));

function readRecord() {
  if (!existsSync(RECORD)) return undefined;
  return JSON.parse(readFileSync(RECORD, 'utf8'));
}

/** Why the record cannot be used here, or undefined when it can. */
function notReady(record) {
  if (!record) return 'no record of an npm ci in node_modules';
  if (record.lockSha !== lockSha()) return 'package-lock.json changed since the install';
  if (record.npm !== npmVersion()) return `npm ${npmVersion()} here, the install was made by npm ${record.npm}`;
  const here = platform();
  for (const k of ['os', 'cpu', 'libc']) if (record.platform[k] !== here[k]) return `${k} ${here[k]} here, ${record.platform[k]} at the install`;
  return undefined;
}

const command = process.argv[2];
if (command === 'record') {
  mkdirSync(dirname(RECORD), { recursive: true });
  const record = { node: process.version, npm: npmVersion(), platform: platform(), lockSha: lockSha(), files: manifest() };
  writeFileSync(RECORD, JSON.stringify(record));
  console.log(`install-manifest: recorded ${Object.keys(record.files).length} entries of node_modules (npm ci on node ${record.node}, npm ${record.npm})`);
} else if (command === 'ready') {
  const why = notReady(readRecord());
  if (why) {
    console.log(`install-manifest: cannot reuse node_modules: ${why}`);
    process.exit(1);
  }
} else if (command === 'check') {
  const record = readRecord();
  const why = notReady(record);
  if (why) {
    console.log(`install-manifest: cannot reuse node_modules: ${why}`);
    process.exit(1);
  }
  for (const cache of CACHES) rmSync(join(ROOT, cache), { recursive: true, force: true });
  // Optional packages npm installs on one of the two Node versions only.
  const checkEngine = checkEngineOf();
  const npm = npmVersion();
  const fails = (pkg, node) => {
    try {
      checkEngine(pkg, npm, node, false);
      return false;
    } catch {
      return true;
    }
  };
  const byRuntime = Object.entries(lock().packages)
    .filter(([path, pkg]) => path !== '' && pkg.optional && fails(pkg, record.node) !== fails(pkg, process.version))
    .map(([path]) => path);
  const explained = (path) => path === 'node_modules/.package-lock.json' || byRuntime.some((p) => path.startsWith(p + '/'));
  const now = manifest();
  const unexplained = [];
  // Each of them present exactly when npm installs it on this runtime.
  for (const path of byRuntime) {
    const wanted = !fails(lock().packages[path], process.version);
    if (wanted !== (now[path + '/package.json'] !== undefined)) unexplained.push(`${path} (${wanted ? 'missing' : 'present'})`);
  }
  let explainedCount = 0;
  for (const path of new Set([...Object.keys(record.files), ...Object.keys(now)])) {
    if (record.files[path] === now[path]) continue;
    if (explained(path)) explainedCount++;
    else unexplained.push(path);
  }
  console.log(`install-manifest: node ${record.node} -> ${process.version}: packages installed on one of them only: ${byRuntime.join(', ') || 'none'}; ${explainedCount} entries differ for that reason`);
  if (unexplained.length > 0) {
    console.log(`install-manifest: ${unexplained.length} entries differ otherwise, e.g. ${unexplained.slice(0, 5).map((p) => relative('.', p)).join(', ')}`);
    process.exit(1);
  }
  console.log('install-manifest: node_modules is what npm ci makes on this runtime (install scripts rebuilt here gave the same bytes)');
} else {
  console.error('usage: install-manifest.mjs record|ready|check');
  process.exit(2);
}
