import { describe, expect, it } from 'vitest';
import { parseWebhookTargets } from './webhook-target.js';

describe('webhook targets', () => {
  it('parses URLs with and without type filters; the fragment is not sent', () => {
    const [all, some] = parseWebhookTargets('https://a.example/hook, http://b.example:8080/x?token=abc#user.*|topic.vacated');
    expect(all?.types.size).toBe(8);
    expect(some?.url).toBe('http://b.example:8080/x?token=abc');
    expect(some?.display).toBe('http://b.example:8080/x');
    expect([...(some?.types ?? [])].sort()).toEqual(['topic.vacated', 'user.offline', 'user.online']);
    expect(all?.id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('refuses other schemes, junk, unknown types and duplicates, without echoing query strings', () => {
    const tries = ['https://user:pw@a.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'https://a.example/#user.gone', 'https://a.example/ https://a.example/'];
    for (const t of tries) expect(() => parseWebhookTargets(t)).toThrow();
    try {
      parseWebhookTargets('ftp://x.example/?token=s3cr3t');
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cr3t');
    }
  });

  it('bounds the number and length of URLs', () => {
    expect(() => parseWebhookTargets(Array.from({ length: 17 }, (_, i) => `https://h${i}.example/`).join(' '))).toThrow(/at most 16/);
    expect(() => parseWebhookTargets('https://a.example/' + 'x'.repeat(3000))).toThrow(/longer/);
  });
});
