/**
 * `herald vapid [--json]`: a new VAPID key pair for Web Push (docs/push.md#vapid-keys), printed
 * as the two HERALD_* lines to set (or as JSON). Writes nothing to disk; the private key goes to
 * stdout only, so redirect it straight into a secret store.
 * @module
 */
import { parseArgs } from 'node:util';
import { generateVapidKeys } from '@herald/push';
import { UsageError } from '../args.js';

export function runVapid(argv: readonly string[]): number {
  const { values, positionals } = parseArgs({ args: [...argv], options: { json: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
  if (positionals.length > 0) throw new UsageError(`vapid takes no arguments (got '${positionals[0]}')`);
  const { publicKey, privateKey } = generateVapidKeys();
  if (values.json) {
    process.stdout.write(JSON.stringify({ publicKey, privateKey }) + '\n');
    return 0;
  }
  process.stdout.write(`HERALD_VAPID_PUBLIC_KEY=${publicKey}\nHERALD_VAPID_PRIVATE_KEY=${privateKey}\n`);
  process.stderr.write(
    'herald: keep the private key secret and keep this pair for good: browser subscriptions are bound to the public key.\n' +
      'herald: also set HERALD_VAPID_SUBJECT=mailto:you@example.com (or an https: URL).\n',
  );
  return 0;
}
