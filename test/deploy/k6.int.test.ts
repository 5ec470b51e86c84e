// The k6 scenarios (loadtest/k6) cannot run here (no k6): they are type-checked against
// @types/k6, and each one is checked to be a standard k6 script with thresholds.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readRepo, repoPath } from './helpers.js';

const scripts = readdirSync(repoPath('loadtest/k6')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
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

  it.each(scripts)('%s imports only k6 modules and declares options with thresholds', (file) => {
    const text = readRepo('loadtest/k6', file);
    const lib = readRepo('loadtest/k6/lib/herald.ts');
    for (const source of [text, lib]) {
      for (const m of source.matchAll(/^import\s.*?from\s+'([^']+)'/gm)) expect(m[1], `${file}: import ${m[1]}`).toMatch(STANDARD);
    }
    expect(text).toMatch(/^export const options: Options = \{/m);
    expect(text).toMatch(/^ {2}thresholds: \{/m);
    // Targets and credentials come from the environment, never from the file.
    expect(`${text}\n${lib}`).not.toMatch(/(eyJ[A-Za-z0-9_-]{10,}|Bearer [A-Za-z0-9_-]{16,})/);
  });
});
