/** Credentials of the bed: the CLI path, the JWT secret and API key, and tokens minted from them (all remembered, so tests can check none reaches a log). */
import { resolve } from 'node:path';
import { signToken } from '@herald/auth';

export const CLI = resolve(import.meta.dirname, '../../../services/herald/dist/cli.js');
export const SECRET = 'resilience-bed-secret-0123456789abcdef';
export const API_KEY = 'resilience-bed-api-key-0123456789';

/** Every token minted by a bed, to check that none reaches a log. */
export const MINTED_TOKENS = new Set<string>();

export async function mintToken(sub: string, topics: string[] = ['>'], ttlSec = 600): Promise<string> {
  const t = await signToken({ secret: SECRET, sub, topics, ttlSec });
  MINTED_TOKENS.add(t);
  return t;
}
