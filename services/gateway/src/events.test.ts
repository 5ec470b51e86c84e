// Unit tests of the gateway's lifecycle-events wiring: the configuration keys, and what the
// connection table and the subscriptions tell their observers.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@herald/config';
import { gatewayConfigSchema } from './config.js';
import { Connections, type ConnectionObserver } from './conn/registry.js';
import { newConnState } from './conn/state.js';

const env = (extra: Record<string, string>): Record<string, string> => ({ HERALD_JWT_SECRET: 's'.repeat(32), ...extra });

function issues(extra: Record<string, string>): readonly string[] {
  try {
    loadConfig(gatewayConfigSchema, env(extra));
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('events configuration of the gateway', () => {
  it('is off by default, with the documented grace', () => {
    const c = loadConfig(gatewayConfigSchema, env({}));
    expect(c).toMatchObject({ EVENTS: false, EVENTS_CONNECTIONS: false, OFFLINE_GRACE_MS: 5000 });
  });
  it('reports the cross-key problems under their keys, without showing the secret', () => {
    const found = issues({ HERALD_WEBHOOK_URLS: 'https://example.com/hook' });
    expect(found.some((i) => i.startsWith('HERALD_WEBHOOK_SECRET') && i.includes('required'))).toBe(true);
    expect(found.some((i) => i.startsWith('HERALD_WEBHOOK_URLS') && i.includes('HERALD_EVENTS'))).toBe(true);
    const secret = 'not-a-whsec-secret-value-123';
    expect(issues({ HERALD_EVENTS: 'true', HERALD_WEBHOOK_URLS: 'https://example.com/hook', HERALD_WEBHOOK_SECRET: secret }).join('\n')).not.toContain(secret);
  });
  it('accepts a complete webhook setup', () => {
    const c = loadConfig(gatewayConfigSchema, env({
      HERALD_EVENTS: 'true', HERALD_OFFLINE_GRACE_MS: '1000', HERALD_WEBHOOK_URLS: 'https://example.com/hook#user.*',
      HERALD_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`,
    }));
    expect(c.EVENTS).toBe(true);
    expect(c.OFFLINE_GRACE_MS).toBe(1000);
  });
});

describe('the connection table tells its observer', () => {
  it('once per open and once per close, with the close code', () => {
    const seen: string[] = [];
    const observer: ConnectionObserver = {
      opened: (st) => seen.push(`open ${st.sub}`),
      closed: (st, code) => seen.push(`close ${st.sub} ${code}`),
    };
    const table = new Connections(10, 10, observer);
    const st = newConnState('c1', { sub: 'u1', topics: [], exp: undefined } as unknown as Parameters<typeof newConnState>[1], 10, 0);
    expect(table.reserve('u1')).toBe(true);
    table.add(st);
    table.add(st);
    table.remove(st, 4001);
    table.remove(st, 4001);
    expect(seen).toEqual(['open u1', 'close u1 4001']);
  });
});
