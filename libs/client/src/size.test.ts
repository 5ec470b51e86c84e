// The size budget, measured as the build measures it (esbuild, minified ESM, gzip -9): the whole
// client with every feature (`@herald/client/inbox`; `@herald/client` is it without the inbox) at
// most 8 KiB, the WebSocket-only entry (`@herald/client/ws`) at most 6 KiB.
// Internal property names are shortened as in scripts/build.mjs (scripts/internal-props.json).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const { names } = JSON.parse(readFileSync(join(import.meta.dirname, '../scripts/internal-props.json'), 'utf8')) as { names: string[] };
const mangleProps = new RegExp(`^(${names.join('|')})$`);

async function minGzBytes(entry: string): Promise<number> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, entry)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    mangleProps,
    write: false,
    logLevel: 'silent',
  });
  return gzipSync(out.outputFiles[0]!.contents, { level: 9 }).length;
}

describe('bundle size budget (min+gzip)', () => {
  it('the whole client without the inbox: at most 8 KiB', async () => {
    expect(await minGzBytes('index.ts')).toBeLessThanOrEqual(8 * 1024);
  });

  it('the inbox entry (`@herald/client/inbox`: the whole client plus client.inbox, every feature): at most 8 KiB', async () => {
    expect(await minGzBytes('inbox.ts')).toBeLessThanOrEqual(8 * 1024);
  });

  it('the WebSocket-only entry: at most 6 KiB, and without the SSE transport', async () => {
    expect(await minGzBytes('ws.ts')).toBeLessThanOrEqual(6 * 1024);
    const out = await build({ entryPoints: [join(import.meta.dirname, 'ws.ts')], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'silent', metafile: true });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((f) => /transport-sse|sse-parser|sse-kit/.test(f))).toBe(false);
  });
});
