// Unit tests for sign.ts: claims written, option checks, and a round trip through the verifier.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { SECRET, nowSec } from '../test/helpers.js';
import { signToken } from './sign.js';
import { createTokenVerifier } from './verify.js';

describe('signToken', () => {
  it('writes sub, iat, exp, topics, aud and iss, with HS256 by default', async () => {
    const t = await signToken({ secret: SECRET, sub: '42', topics: ['news', 'orders.>'], ttlSec: 120, audience: 'a', issuer: 'i' });
    expect(decodeProtectedHeader(t)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const c = decodeJwt(t);
    expect(c).toMatchObject({ sub: '42', topics: ['news', 'orders.>'], aud: 'a', iss: 'i' });
    expect(c.exp).toBe((c.iat ?? 0) + 120);
    expect(Math.abs((c.iat ?? 0) - nowSec())).toBeLessThanOrEqual(1);
  });

  it('defaults to a one-hour lifetime and no topics claim', async () => {
    const c = decodeJwt(await signToken({ secret: SECRET, sub: 'u' }));
    expect(c.exp).toBe((c.iat ?? 0) + 3600);
    expect(c['topics']).toBeUndefined();
  });

  it('adds extra claims without letting them override the registered ones', async () => {
    const c = decodeJwt(await signToken({ secret: SECRET, sub: 'u', extra: { role: 'admin', sub: 'evil', exp: 1 } }));
    expect(c['role']).toBe('admin');
    expect(c.sub).toBe('u');
    expect(c.exp).toBeGreaterThan(nowSec());
  });

  it.each(['HS256', 'HS384', 'HS512'] as const)('round-trips through the verifier with %s', async (alg) => {
    const v = createTokenVerifier({ hmacSecret: SECRET, algorithms: [alg] });
    const r = await v.verify(await signToken({ secret: SECRET, sub: 'round', alg, topics: ['x.*'] }));
    expect(r.sub).toBe('round');
    expect(r.topics.allows('x.y')).toBe(true);
  });

  it('rejects bad input with a TypeError', async () => {
    await expect(signToken({ secret: '', sub: 'u' })).rejects.toThrow(TypeError);
    await expect(signToken({ secret: SECRET, sub: '' })).rejects.toThrow(TypeError);
    await expect(signToken({ secret: SECRET, sub: 'a\nb' })).rejects.toThrow(TypeError);
    await expect(signToken({ secret: SECRET, sub: 'u', topics: ['ok', 'bad..topic'] })).rejects.toThrow(/bad\.\.topic/);
    await expect(signToken({ secret: SECRET, sub: 'u', ttlSec: 0 })).rejects.toThrow(TypeError);
    await expect(signToken({ secret: SECRET, sub: 'u', ttlSec: 1.5 })).rejects.toThrow(TypeError);
    await expect(signToken({ secret: SECRET, sub: 'u', alg: 'RS256' as 'HS256' })).rejects.toThrow(TypeError);
  });
});
