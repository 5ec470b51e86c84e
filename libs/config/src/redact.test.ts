import { describe, expect, it } from 'vitest';
import { redactConfig } from './redact.js';

describe('redactConfig', () => {
  it('shows secrets by shape and masks URL credentials', () => {
    const out = redactConfig({
      JWT_SECRET: 'super-secret-value-123',
      API_KEYS: ['k1k1k1k1k1k1k1k1', 'k2k2k2k2k2k2k2k2'],
      JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----',
      NATS_URL: 'nats://app:hunter2@n1:4222,nats://tok@n2:4222',
      PORT: 8080,
      HOST: '0.0.0.0',
    });
    expect(out).toEqual({
      JWT_SECRET: '<redacted: 22 characters>',
      API_KEYS: '<redacted: 2 values>',
      JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----',
      NATS_URL: 'nats://app:***@n1:4222,nats://***@n2:4222',
      PORT: 8080,
      HOST: '0.0.0.0',
    });
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });
});
