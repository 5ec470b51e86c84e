// Unit tests of the configuration schema through loadConfig.
import { ConfigError, loadConfig } from '@herald/config';
import { describe, expect, it } from 'vitest';
import { publishApiConfigSchema } from './config.js';

const KEY = 'k'.repeat(16);

describe('publishApiConfigSchema', () => {
  it('fills the documented defaults', () => {
    const c = loadConfig(publishApiConfigSchema, { HERALD_API_KEYS: KEY });
    expect(c).toMatchObject({
      PORT: 8081, HOST: '0.0.0.0', LOG_LEVEL: 'info', API_KEYS: [KEY], MAX_BODY_BYTES: 1024 * 1024, MAX_DATA_BYTES: 64 * 1024,
      MAX_BATCH: 1000, MAX_TARGETS: 1000, RATE_LIMIT_RPS: 0, PUBLISH_CONCURRENCY: 256, DEDUPE_WINDOW_MS: 120_000,
    });
    expect(c.NATS_URL).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('splits and trims API_KEYS', () => {
    const c = loadConfig(publishApiConfigSchema, { HERALD_API_KEYS: ` ${KEY} ,${'z'.repeat(20)},` });
    expect(c.API_KEYS).toEqual([KEY, 'z'.repeat(20)]);
  });

  it('requires an API key', () => {
    expect(() => loadConfig(publishApiConfigSchema, {})).toThrow(ConfigError);
    expect(() => loadConfig(publishApiConfigSchema, { HERALD_API_KEYS: ' , ' })).toThrow(ConfigError);
  });

  it('refuses a short key without echoing it', () => {
    try {
      loadConfig(publishApiConfigSchema, { HERALD_API_KEYS: `${KEY},short-secret` });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join('\n');
      expect(issues).toContain('HERALD_API_KEYS');
      expect(issues).not.toContain('short-secret');
      expect(issues).not.toContain(KEY);
    }
  });

  it('reports every issue at once', () => {
    try {
      loadConfig(publishApiConfigSchema, { HERALD_PORT: 'x', HERALD_MAX_BATCH: '0' });
      expect.unreachable();
    } catch (err) {
      const issues = (err as ConfigError).issues;
      expect(issues.some((i) => i.startsWith('HERALD_PORT'))).toBe(true);
      expect(issues.some((i) => i.startsWith('HERALD_MAX_BATCH'))).toBe(true);
      expect(issues.some((i) => i.startsWith('HERALD_API_KEYS'))).toBe(true);
    }
  });

  it('keeps data below the body limit', () => {
    expect(() => loadConfig(publishApiConfigSchema, { HERALD_API_KEYS: KEY, HERALD_MAX_BODY_BYTES: '2048', HERALD_MAX_DATA_BYTES: '4096' })).toThrow(/MAX_DATA_BYTES/);
  });
});
