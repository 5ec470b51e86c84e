/**
 * `herald token --sub u1 --topics 'news,orders.*' --ttl 1h`: mints an HS256 token
 * from HERALD_JWT_SECRET (or the development secret of `herald dev`).
 * @module
 */
import { parseArgs } from 'node:util';
import { parseDuration, signToken } from '@herald/auth';
import { isValidUserId } from '@herald/protocol';
import { UsageError } from '../args.js';
import { readDevCredentials } from '../dev-credentials.js';

type Env = Readonly<Record<string, string | undefined>>;

export async function runToken(argv: readonly string[], env: Env): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sub: { type: 'string' },
      topics: { type: 'string', default: '' },
      ttl: { type: 'string', default: '1h' },
      aud: { type: 'string' },
      iss: { type: 'string' },
      alg: { type: 'string', default: 'HS256' },
    },
    strict: true,
  });
  if (values.sub === undefined) throw new UsageError('token: --sub is required (the user id)');
  if (!isValidUserId(values.sub)) throw new UsageError('token: --sub must be 1 to 256 bytes of UTF-8 without control characters');
  const alg = values.alg;
  if (alg !== 'HS256' && alg !== 'HS384' && alg !== 'HS512') throw new UsageError('token: --alg must be HS256, HS384 or HS512');
  let ttlSec: number;
  try {
    ttlSec = parseDuration(values.ttl);
  } catch {
    throw new UsageError(`token: --ttl '${values.ttl}' is not a duration (examples: 30s, 15m, 1h, 7d)`);
  }
  const secret = env['HERALD_JWT_SECRET'] ?? readDevCredentials(process.cwd())?.jwtSecret;
  if (secret === undefined) throw new UsageError('token: set HERALD_JWT_SECRET (or run `herald dev` once in this folder for a development secret)');
  const topics = values.topics.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  const token = await signToken({
    secret,
    sub: values.sub,
    topics,
    ttlSec,
    alg,
    ...(values.aud !== undefined ? { audience: values.aud } : {}),
    ...(values.iss !== undefined ? { issuer: values.iss } : {}),
  });
  process.stdout.write(token + '\n');
  return 0;
}
