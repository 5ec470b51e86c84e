import { describe, expect, it } from 'vitest';
import { loadConfig } from '@herald/config';
import { eventsConfig, eventsConfigIssues, webhookSettings } from './config.js';

const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

describe('events configuration', () => {
  it('has documented defaults', () => {
    const c = loadConfig(eventsConfig, {}, { unknownVariables: 'ignore' });
    expect(c).toMatchObject({ EVENTS: false, OFFLINE_GRACE_MS: 5000, WEBHOOK_RETRY_MS: 21_600_000, EVENTS_MAX_AGE_MS: 86_400_000, WEBHOOK_TIMEOUT_MS: 10_000 });
    expect(eventsConfigIssues(c)).toEqual([]);
  });

  it('parses URLs and secrets, and says what is wrong without echoing the secret', () => {
    const c = loadConfig(eventsConfig, { HERALD_EVENTS: 'true', HERALD_WEBHOOK_URLS: 'https://a.example/h#user.*', HERALD_WEBHOOK_SECRET: SECRET }, { unknownVariables: 'ignore' });
    expect(webhookSettings(c)?.targets[0]?.types.size).toBe(2);
    let message = '';
    try {
      loadConfig(eventsConfig, { HERALD_WEBHOOK_URLS: 'gopher://x', HERALD_WEBHOOK_SECRET: 'hunter2hunter2' }, { unknownVariables: 'ignore' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('HERALD_WEBHOOK_URLS');
    expect(message).toContain('HERALD_WEBHOOK_SECRET');
    expect(message).not.toContain('hunter2');
  });

  it('reports cross-key problems', () => {
    const c = loadConfig(eventsConfig, { HERALD_WEBHOOK_URLS: 'https://a.example/', HERALD_EVENTS_MAX_AGE_MS: '60000' }, { unknownVariables: 'ignore' });
    expect(eventsConfigIssues(c)).toHaveLength(3);
  });
});
