// `herald vapid`: a VAPID key pair the push config accepts, as HERALD_* lines or JSON; the private key never on stderr.
import { resolve } from 'node:path';
import { vapidProblem } from '@herald/push';
import { runNode } from '@herald/testkit';
import { describe, expect, it } from 'vitest';

const CLI = resolve(import.meta.dirname, '../dist/cli.js');

describe('herald vapid', () => {
  it('prints a valid pair as the two HERALD_* lines, a new one each run', async () => {
    const runs = await Promise.all([runNode([CLI, 'vapid']), runNode([CLI, 'vapid'])]);
    const pairs = runs.map((r) => {
      expect(r.code).toBe(0);
      const m = /^HERALD_VAPID_PUBLIC_KEY=([A-Za-z0-9_-]{87})\nHERALD_VAPID_PRIVATE_KEY=([A-Za-z0-9_-]{43})\n$/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const [publicKey, privateKey] = [m?.[1] ?? '', m?.[2] ?? ''];
      expect(vapidProblem({ publicKey, privateKey, subject: 'mailto:ops@example.com' })).toBeUndefined();
      expect(r.stderr).not.toContain(privateKey);
      expect(r.stderr).toMatch(/HERALD_VAPID_SUBJECT/);
      return publicKey;
    });
    expect(pairs[0]).not.toBe(pairs[1]);
  });

  it('--json prints the pair as JSON; arguments are a usage error; --help starts nothing', async () => {
    const json = await runNode([CLI, 'vapid', '--json']);
    const pair = JSON.parse(json.stdout) as { publicKey: string; privateKey: string };
    expect(vapidProblem({ ...pair, subject: 'https://example.com/contact' })).toBeUndefined();
    const bad = await runNode([CLI, 'vapid', 'extra']);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    const help = await runNode([CLI, 'vapid', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: herald vapid/);
  });
});
