// The k6 scenarios (loadtest/k6) need a k6 binary, which CI does not have: they are
// type-checked against @types/k6, each one is checked to be a standard k6 script with
// thresholds, and every setting a script reads is documented in the README.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRepo, repoPath } from './helpers.js';

const scripts = readdirSync(repoPath('loadtest/k6')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const libs = readdirSync(repoPath('loadtest/k6/lib')).filter((f) => f.endsWith('.ts')).map((f) => `lib/${f}`);

/** Environment variables a file reads (directly or through the lib's env helpers). */
function settingsRead(text: string): string[] {
  const names = [...text.matchAll(/(?:envNumber|envDuration|__ENV\[)\(?'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
  if (/\brunPlan\(/.test(text)) names.push('DURATION', 'WARMUP', 'COOLDOWN');
  return names;
}
const STANDARD = /^(k6|k6\/(websockets|ws|http|metrics|crypto|encoding|timers|execution|options|data)|\.\.?\/.+\.ts)$/;

describe('k6 scenarios loadtest/k6', () => {
  it('are the four documented scenarios', () => {
    expect(scripts.sort()).toEqual(['connect-storm.ts', 'fanout.ts', 'soak.ts', 'user-notify.ts']);
    const readme = readRepo('loadtest/k6/README.md');
    for (const s of scripts) expect(readme).toContain(s);
  });

  it('type-check with tsc against @types/k6', () => {
    const tsc = repoPath('node_modules/typescript/bin/tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', repoPath('loadtest/k6/tsconfig.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`tsc -p loadtest/k6/tsconfig.json failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
  });

  it('document every setting they read, and the k6 version that has k6/websockets', () => {
    const readme = readRepo('loadtest/k6/README.md');
    const read = new Set([...scripts, ...libs].flatMap((f) => settingsRead(readRepo('loadtest/k6', f))));
    expect(read.size).toBeGreaterThan(10);
    for (const name of read) expect(readme, `${name} in README`).toContain(`\`${name}\``);
    expect(readme).toContain('**v1.6.0 or later**');
    for (const s of scripts) expect(settingsRead(readRepo('loadtest/k6', s)), `${s} honours DURATION`).toContain('DURATION');
  });

  it.each(scripts)('%s imports only k6 modules and declares options with thresholds', (file) => {
    const text = readRepo('loadtest/k6', file);
    const lib = libs.map((f) => readRepo('loadtest/k6', f)).join('\n');
    for (const source of [text, ...libs.map((f) => readRepo('loadtest/k6', f))]) {
      for (const m of source.matchAll(/^import\s.*?from\s+'([^']+)'/gm)) expect(m[1], `${file}: import ${m[1]}`).toMatch(STANDARD);
    }
    expect(text).toMatch(/^export const options: Options = \{/m);
    expect(text).toMatch(/^ {2}thresholds: \{/m);
    // Targets and credentials come from the environment, never from the file.
    expect(`${text}\n${lib}`).not.toMatch(/(eyJ[A-Za-z0-9_-]{10,}|Bearer [A-Za-z0-9_-]{16,})/);
  });
});
