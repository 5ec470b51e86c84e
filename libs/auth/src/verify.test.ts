// Unit tests for verify.ts with HMAC secrets: valid tokens, claim rules, and refused attacks,
// through both the jose path (`verify`) and the node:crypto path (`verifySync`).
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SECRET, b64url, nowSec, rejection, secretBytes, sign, unsignedToken } from '../test/helpers.js';
import { AuthError } from './errors.js';
import { signToken } from './sign.js';
import { createTokenVerifier, type TokenVerifier, type VerifierConfig } from './verify.js';

const key = secretBytes();

/** Each mode builds verifiers whose `verify` goes through one path (verifySync's throw becomes a rejection). */
const MODES = {
  verify: (config: VerifierConfig): Pick<TokenVerifier, 'verify'> => createTokenVerifier(config),
  verifySync: (config: VerifierConfig): Pick<TokenVerifier, 'verify'> => {
    const { verifySync } = createTokenVerifier(config);
    if (verifySync === undefined) throw new Error('an HMAC verifier must have verifySync');
    return { verify: (token) => new Promise((resolve) => resolve(verifySync(token))) };
  },
} as const;

describe.each(Object.keys(MODES) as (keyof typeof MODES)[])('%s', (mode) => {
  const create = MODES[mode];
  const verifier = create({ hmacSecret: SECRET });

  describe('createTokenVerifier with an HMAC secret', () => {
    it.each(['HS256', 'HS384', 'HS512'] as const)('accepts a valid %s token', async (alg) => {
      const token = await signToken({ secret: SECRET, sub: 'user-42', alg, topics: ['news', 'orders.*'], ttlSec: 60 });
      const v = await verifier.verify(token);
      expect(v.sub).toBe('user-42');
      expect(v.exp).toBeGreaterThan(nowSec());
      expect(v.iat).toBeLessThanOrEqual(nowSec());
      expect(v.topics.patterns).toEqual(['news', 'orders.*']);
      expect(v.topics.allows('orders.7')).toBe(true);
      expect(v.topics.allows('other')).toBe(false);
      expect(Object.isFrozen(v)).toBe(true);
    });

    it('accepts user ids with dots, wildcards, spaces and non-ASCII', async () => {
      const sub = 'a.b *> ünïcødé 用户';
      expect((await verifier.verify(await sign(key, 'HS256', { sub }))).sub).toBe(sub);
    });

    it('allows no topics when the claim is absent', async () => {
      const v = await verifier.verify(await sign(key, 'HS256'));
      expect(v.topics.patterns).toEqual([]);
      expect(v.topics.allows('news')).toBe(false);
    });

    it('ignores invalid patterns and non-strings in the topics claim', async () => {
      const v = await verifier.verify(await sign(key, 'HS256', { topics: ['ok', 'bad..x', 7, null, 'a.>.b', 'x.>'] }));
      expect(v.topics.patterns).toEqual(['ok', 'x.>']);
    });

    it('reads at most 100 topic patterns', async () => {
      const topics = Array.from({ length: 150 }, (_, i) => `t${i}`);
      const v = await verifier.verify(await sign(key, 'HS256', { topics }));
      expect(v.topics.patterns).toHaveLength(100);
      expect(v.topics.allows('t99')).toBe(true);
      expect(v.topics.allows('t100')).toBe(false);
    });

    it('refuses a topics claim that is not an array', async () => {
      expect((await rejection(verifier.verify(await sign(key, 'HS256', { topics: 'news' })))).code).toBe('claims_invalid');
    });

    it('checks aud and iss when configured', async () => {
      const v = create({ hmacSecret: SECRET, audience: 'herald', issuer: 'https://idp' });
      const good = await signToken({ secret: SECRET, sub: 'u', audience: 'herald', issuer: 'https://idp' });
      expect((await v.verify(good)).sub).toBe('u');
      const wrongAud = await signToken({ secret: SECRET, sub: 'u', audience: 'other', issuer: 'https://idp' });
      const wrongIss = await signToken({ secret: SECRET, sub: 'u', audience: 'herald', issuer: 'https://evil' });
      const noAud = await signToken({ secret: SECRET, sub: 'u', issuer: 'https://idp' });
      for (const t of [wrongAud, wrongIss, noAud]) expect((await rejection(v.verify(t), t)).code).toBe('claims_invalid');
    });

    it('accepts a token without exp when requireExp is false', async () => {
      const t = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
      const v = await create({ hmacSecret: SECRET, requireExp: false }).verify(t);
      expect(v.exp).toBeUndefined();
      expect(v.iat).toBeUndefined();
    });

    it('applies the clock tolerance to exp and nbf', async () => {
      const justExpired = await sign(key, 'HS256', { exp: nowSec() - 2 });
      const almostValid = await sign(key, 'HS256', { nbf: nowSec() + 2 });
      expect((await verifier.verify(justExpired)).sub).toBe('u1');
      expect((await verifier.verify(almostValid)).sub).toBe('u1');
      const strict = create({ hmacSecret: SECRET, clockToleranceSec: 0 });
      expect((await rejection(strict.verify(justExpired))).code).toBe('token_expired');
      expect((await rejection(strict.verify(almostValid))).code).toBe('claims_invalid');
    });
  });

  describe('createTokenVerifier refuses', () => {
    it('a missing or empty token', async () => {
      expect((await rejection(verifier.verify(''))).code).toBe('token_missing');
      expect((await rejection(verifier.verify(undefined as unknown as string))).code).toBe('token_missing');
    });

    it('an unsigned alg:none token (any spelling)', async () => {
      for (const alg of ['none', 'None', 'NONE']) {
        const t = unsignedToken({ sub: 'admin', exp: nowSec() + 3600, topics: ['>'] }, alg);
        expect((await rejection(verifier.verify(t), t)).code).toBe('alg_not_allowed');
      }
    });

    it('a tampered payload', async () => {
      const [h, , s] = (await sign(key, 'HS256', { topics: ['news'] })).split('.');
      const t = `${h}.${b64url({ sub: 'u1', exp: nowSec() + 3600, topics: ['>'] })}.${s}`;
      const { code, error } = await rejection(verifier.verify(t), t);
      expect(code).toBe('token_invalid');
      expect(error).toBeInstanceOf(AuthError);
      expect(error.cause).toBeDefined();
    });

    it('a token signed with another secret', async () => {
      const t = await sign(secretBytes('another-secret-of-sufficient-length-0123456789'), 'HS256');
      expect((await rejection(verifier.verify(t), t)).code).toBe('token_invalid');
    });

    it('an expired token', async () => {
      const t = await sign(key, 'HS256', { exp: nowSec() - 60 });
      expect((await rejection(verifier.verify(t), t)).code).toBe('token_expired');
    });

    it('a token not yet valid (nbf in the future)', async () => {
      const t = await sign(key, 'HS256', { nbf: nowSec() + 120 });
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it('a token without exp by default', async () => {
      const t = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(key);
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it('a non-numeric exp', async () => {
      const t = await sign(key, 'HS256', { exp: 'tomorrow' as unknown as number });
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it('a token without sub', async () => {
      const t = await new SignJWT({ exp: nowSec() + 60 }).setProtectedHeader({ alg: 'HS256' }).sign(key);
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it.each([
      ['a control character', 'user\u0000x'],
      ['a newline', 'user\nx'],
      ['a C1 control', 'user\u0085'],
      ['more than 256 bytes', 'é'.repeat(129)],
      ['an empty string', ''],
      ['a lone surrogate', 'x\ud800'],
    ])('a sub with %s', async (_, sub) => {
      const t = await sign(key, 'HS256', { sub });
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it('a non-string sub', async () => {
      const t = await sign(key, 'HS256', { sub: 42 as unknown as string });
      expect((await rejection(verifier.verify(t), t)).code).toBe('claims_invalid');
    });

    it('a token longer than maxTokenChars, without parsing it', async () => {
      const t = await sign(key, 'HS256', { pad: 'x'.repeat(9000) });
      expect((await rejection(verifier.verify(t), t)).error.cause).toBeUndefined();
      const small = create({ hmacSecret: SECRET, maxTokenChars: 50 });
      const { code, error } = await rejection(small.verify(await sign(key, 'HS256')));
      expect(code).toBe('token_invalid');
      expect(error.message).toBe('token too long');
    });

    it('an algorithm outside the allow-list', async () => {
      const only256 = create({ hmacSecret: SECRET, algorithms: ['HS256'] });
      const t = await sign(key, 'HS512');
      expect((await rejection(only256.verify(t), t)).code).toBe('alg_not_allowed');
    });

    it('an asymmetric alg header against an HMAC secret', async () => {
      const t = `${b64url({ alg: 'RS256' })}.${b64url({ sub: 'u', exp: nowSec() + 60 })}.c2ln`;
      expect((await rejection(verifier.verify(t), t)).code).toBe('alg_not_allowed');
    });

    it.each([
      ['garbage', 'not-a-jwt'],
      ['two segments', 'a.b'],
      ['bad base64 header', '!!!.e30.sig'],
      ['non-JSON header', `${Buffer.from('nope').toString('base64url')}.e30.sig`],
      ['a JSON array payload', `${b64url({ alg: 'HS256' })}.${b64url([1])}.sig`],
    ])('a malformed token (%s)', async (_, t) => {
      expect((await rejection(verifier.verify(t), t)).code).toBe('token_invalid');
    });

    it('a payload that is not a JSON object, even when correctly signed', async () => {
      const h = b64url({ alg: 'HS256' });
      const p = Buffer.from('"just a string"').toString('base64url');
      const sig = Buffer.from(
        await crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), new TextEncoder().encode(`${h}.${p}`)),
      ).toString('base64url');
      expect((await rejection(verifier.verify(`${h}.${p}.${sig}`))).code).toBe('token_invalid');
    });
  });
});
