// The webhook consumer setup at a gateway's start: retried while JetStream cannot answer, not on a refusal.
import { JetStreamApiError } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { withSetupRetries } from './webhooks.js';

describe('webhook consumer setup retries', () => {
  it('goes again after timeouts and answers once JetStream does', async () => {
    let calls = 0;
    const value = await withSetupRetries('t', () => (++calls < 3 ? Promise.reject(new Error('timeout')) : Promise.resolve('ready')), undefined);
    expect(value).toBe('ready');
    expect(calls).toBe(3);
  });

  it('a refusal (4xx) is final at once; a failure past the retry window is thrown', async () => {
    let calls = 0;
    const refusal = new JetStreamApiError({ code: 400, err_code: 10_052, description: 'consumer config invalid' });
    await expect(withSetupRetries('t', () => (calls++, Promise.reject(refusal)), undefined)).rejects.toBe(refusal);
    expect(calls).toBe(1);
    const started = Date.now();
    await expect(withSetupRetries('t', () => Promise.reject(new Error('timeout')), undefined, 300)).rejects.toThrow('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
