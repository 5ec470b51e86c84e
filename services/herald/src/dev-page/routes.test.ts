import { describe, expect, it } from 'vitest';
import { isLoopback } from './routes.js';
import { DEV_PAGE_HTML } from './page.js';

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', '0000:0000:0000:0000:0000:0000:0000:0001', '0000:0000:0000:0000:0000:ffff:7f00:0001'])('%s is loopback', (a) => {
    expect(isLoopback(a)).toBe(true);
  });
  it.each(['10.0.0.1', '192.168.1.1', '::2', '0000:0000:0000:0000:0000:ffff:0a00:0001', '2001:db8::1', ''])('%s is not', (a) => {
    expect(isLoopback(a)).toBe(false);
  });
});

describe('the live page', () => {
  it('loads the SDK bundle, marks the publish form development-only, and renders data as text', () => {
    expect(DEV_PAGE_HTML).toContain("from '/sdk/herald-client.js'");
    expect(DEV_PAGE_HTML).toContain('Publish (development only)');
    expect(DEV_PAGE_HTML).not.toContain('innerHTML');
  });
});
