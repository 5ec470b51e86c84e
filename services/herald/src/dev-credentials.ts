/**
 * Development credentials for `herald dev`: a random HS256 secret and API key,
 * kept in `.herald/dev.json` under the working directory so that tokens stay valid
 * across restarts and `herald token` / `herald publish` in another shell find them.
 * Never used when HERALD_JWT_SECRET / HERALD_API_KEYS are configured.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevCredentials {
  readonly jwtSecret: string;
  readonly apiKey: string;
}

export const DEV_CREDENTIALS_FILE = join('.herald', 'dev.json');

export function readDevCredentials(cwd: string): DevCredentials | undefined {
  try {
    const v = JSON.parse(readFileSync(join(cwd, DEV_CREDENTIALS_FILE), 'utf8')) as Partial<DevCredentials>;
    if (typeof v.jwtSecret === 'string' && v.jwtSecret.length >= 16 && typeof v.apiKey === 'string' && v.apiKey.length >= 16) {
      return { jwtSecret: v.jwtSecret, apiKey: v.apiKey };
    }
  } catch {
    /* absent or unreadable: make new ones */
  }
  return undefined;
}

export function loadOrCreateDevCredentials(cwd: string): { credentials: DevCredentials; created: boolean } {
  const existing = readDevCredentials(cwd);
  if (existing) return { credentials: existing, created: false };
  const credentials: DevCredentials = {
    jwtSecret: randomBytes(32).toString('base64url'),
    apiKey: 'dev_' + randomBytes(24).toString('base64url'),
  };
  mkdirSync(join(cwd, '.herald'), { recursive: true, mode: 0o700 });
  writeFileSync(join(cwd, DEV_CREDENTIALS_FILE), JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  writeFileSync(join(cwd, '.herald', '.gitignore'), '*\n');
  return { credentials, created: true };
}
