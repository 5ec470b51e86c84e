// Unit tests of the gateway configuration schema.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@herald/config';
import { gatewayConfigSchema, verifierConfigOf } from './config.js';

const SECRET = 's'.repeat(32);

function load(env: Record<string, string>) {
  return loadConfig(gatewayConfigSchema, Object.fromEntries(Object.entries(env).map(([k, v]) => ['HERALD_' + k, v])));
}

function issues(env: Record<string, string>): readonly string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('gatewayConfigSchema', () => {
  it('has the documented defaults', () => {
    const c = load({ JWT_SECRET: SECRET });
    expect(c).toMatchObject({
      PORT: 8080, MAX_CONNECTIONS: 100_000, MAX_CONNECTIONS_PER_USER: 10, UPGRADE_RATE: 1000, WS_MAX_FRAME_BYTES: 16384,
      WS_MAX_BACKPRESSURE_BYTES: 1024 * 1024, WS_IDLE_TIMEOUT_S: 120, HEARTBEAT_MS: 25_000, MAX_SUBSCRIPTIONS_PER_CONN: 200,
      CMD_RATE: 50, CMD_BURST: 100, BAD_FRAME_LIMIT: 10, REFRESH_BEFORE_S: 60, UNSUBSCRIBE_LINGER_MS: 1000,
      DRAIN_WINDOW_MS: 20_000, DRAIN_TIMEOUT_MS: 25_000, CANARY_INTERVAL_MS: 5000,
    });
    expect(c.ALLOWED_ORIGINS).toBeUndefined();
    expect(c.MAX_UPGRADES_PER_IP_RATE).toBeUndefined();
  });

  it('requires exactly one key source, reported with the other issues', () => {
    expect(issues({ PORT: 'x' })).toEqual([expect.stringContaining('HERALD_PORT'), expect.stringContaining('exactly one of HERALD_JWT_SECRET')]);
    expect(issues({ JWT_SECRET: SECRET, JWKS_URL: 'https://k.example/jwks' })).toEqual([expect.stringContaining('only one token key source')]);
  });

  it('enforces the uWS idle-timeout rule and a drain timeout no shorter than the window', () => {
    expect(issues({ JWT_SECRET: SECRET, WS_IDLE_TIMEOUT_S: '4' })).toEqual([expect.stringContaining('HERALD_WS_IDLE_TIMEOUT_S')]);
    expect(load({ JWT_SECRET: SECRET, WS_IDLE_TIMEOUT_S: '0' }).WS_IDLE_TIMEOUT_S).toBe(0);
    expect(issues({ JWT_SECRET: SECRET, DRAIN_WINDOW_MS: '5000', DRAIN_TIMEOUT_MS: '1000' })).toEqual([expect.stringContaining('HERALD_DRAIN_TIMEOUT_MS')]);
  });

  it('parses conflated topic patterns and names each invalid one', () => {
    expect(load({ JWT_SECRET: SECRET }).CONFLATE_TOPICS).toBeUndefined();
    expect(load({ JWT_SECRET: SECRET, CONFLATE_TOPICS: 'prices.*, state.>,ticker' }).CONFLATE_TOPICS).toEqual(['prices.*', 'state.>', 'ticker']);
    const bad = issues({ JWT_SECRET: SECRET, CONFLATE_TOPICS: 'ok.*,a..b,x.>.y' });
    expect(bad).toEqual([
      expect.stringMatching(/HERALD_CONFLATE_TOPICS.*"a\.\.b" is not a topic pattern/),
      expect.stringMatching(/HERALD_CONFLATE_TOPICS.*"x\.>\.y" is not a topic pattern/),
    ]);
  });

  it('parses the origin list and maps JWT keys onto the verifier config', () => {
    const c = load({ JWT_SECRET: SECRET, ALLOWED_ORIGINS: 'https://a.example, https://b.example', JWT_AUDIENCE: 'herald', JWT_ALLOW_NO_EXP: 'true' });
    expect(c.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(verifierConfigOf(c)).toEqual({ hmacSecret: SECRET, audience: 'herald', requireExp: false, clockToleranceSec: 5 });
  });
});
