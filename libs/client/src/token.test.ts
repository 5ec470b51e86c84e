import { describe, expect, it, vi } from 'vitest';
import { encodeBase64Url } from './encoding.js';
import { patternAllows, tokenAllows } from './sse-kit.js';
import { TokenSource, readClaims } from './token.js';

export function fakeJwt(payload: Record<string, unknown>): string {
  return `${encodeBase64Url('{"alg":"HS256"}')}.${encodeBase64Url(JSON.stringify(payload))}.sig`;
}

describe('token', () => {
  it('reads exp and topics from a JWT payload (UTF-8 safe), nothing from garbage', () => {
    expect(readClaims(fakeJwt({ sub: 'ü', exp: 10, topics: ['news', 1] }))).toEqual({ exp: 10, topics: ['news'] });
    expect(readClaims('nope')).toEqual({});
  });
  it('matches topic patterns like the gateway', () => {
    expect(patternAllows('news', 'news')).toBe(true);
    expect(patternAllows('news', 'news.x')).toBe(false);
    expect(patternAllows('orders.*', 'orders.eu')).toBe(true);
    expect(patternAllows('orders.*', 'orders.eu.x')).toBe(false);
    expect(patternAllows('orders.>', 'orders')).toBe(false);
    expect(patternAllows('orders.>', 'orders.eu.x')).toBe(true);
    expect(patternAllows('>', 'a.b')).toBe(true);
    expect(patternAllows('*.x', 'a.x')).toBe(true);
  });
  it('asks getToken only when the token is missing, expired or refused, one call at a time', async () => {
    const now = 1_000_000_000_000;
    const fresh = fakeJwt({ exp: now / 1000 + 3600 });
    const getToken = vi.fn(async () => fresh);
    const src = new TokenSource(fakeJwt({ exp: now / 1000 + 3600 }), getToken);
    await src.usable(now);
    expect(getToken).not.toHaveBeenCalled();
    src.stale = true;
    await Promise.all([src.usable(now), src.usable(now)]);
    expect(getToken).toHaveBeenCalledTimes(1);
    const expired = new TokenSource(fakeJwt({ exp: now / 1000 + 2 }), getToken);
    expect(await expired.usable(now)).toBe(fresh);
    expect(getToken).toHaveBeenCalledTimes(2);
    await expect(new TokenSource(undefined, undefined).fresh()).rejects.toThrow();
  });
  it('allows a topic unless the token names topics and none matches', () => {
    expect(tokenAllows(fakeJwt({ topics: ['news'] }), 'admin')).toBe(false);
    expect(tokenAllows(fakeJwt({ topics: ['news'] }), 'news')).toBe(true);
    expect(tokenAllows(fakeJwt({}), 'admin')).toBe(true);
  });
});
