// verifySync must accept exactly what verify (jose) accepts and refuse the rest with the same code.
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { SECRET, b64url, makeKeyPair, nowSec, secretBytes, sign, unsignedToken } from '../test/helpers.js';
import { AuthError } from './errors.js';
import { createTokenVerifier, type VerifierConfig, type VerifiedToken } from './verify.js';

const key = secretBytes();

/** A token with the given header and claims, signed with SECRET under the header's HMAC alg (HS256 if not HMAC). */
function handSigned(header: unknown, claims: unknown, secret: string = SECRET): string {
  const h = typeof header === 'string' ? header : b64url(header);
  const p = typeof claims === 'string' ? claims : b64url(claims);
  const alg = typeof header === 'object' && header !== null ? String((header as { alg?: unknown }).alg) : 'HS256';
  const hash = alg === 'HS384' ? 'sha384' : alg === 'HS512' ? 'sha512' : 'sha256';
  return `${h}.${p}.${createHmac(hash, secret).update(`${h}.${p}`).digest('base64url')}`;
}

const exp = (): number => nowSec() + 3600;
const base = (): Record<string, unknown> => ({ sub: 'u1', exp: exp() });
const raw = (text: string): string => Buffer.from(text).toString('base64url');

/** [name, token factory, verifier config overrides]. */
const CASES: [string, () => Promise<string> | string, Partial<VerifierConfig>?][] = [
  ['valid HS256', () => sign(key, 'HS256', { topics: ['news', 'a.*'] })],
  ['valid HS384', () => sign(key, 'HS384')],
  ['valid HS512', () => sign(key, 'HS512')],
  ['HS512 outside an HS256-only allow-list', () => sign(key, 'HS512'), { algorithms: ['HS256'] }],
  ['alg none', () => unsignedToken({ sub: 'admin', exp: exp() })],
  ['alg None', () => unsignedToken({ sub: 'admin', exp: exp() }, 'None')],
  ['alg none with a signature', () => `${b64url({ alg: 'none' })}.${b64url(base())}.c2ln`],
  ['alg missing', () => handSigned({ typ: 'JWT' }, base())],
  ['alg empty', () => handSigned({ alg: '' }, base())],
  ['alg a number', () => handSigned({ alg: 256 }, base())],
  ['alg RS256 header, HMAC-signed', () => handSigned({ alg: 'RS256' }, base())],
  ['RS256 token signed with a real RSA key', () => sign(makeKeyPair('RS256').privateKey, 'RS256')],
  ['ES256 token', () => sign(makeKeyPair('ES256').privateKey, 'ES256')],
  ['HS256 signed with the PEM of a public key', () => {
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return handSigned({ alg: 'HS256' }, base(), pem);
  }],
  ['tampered payload', async () => {
    const [h, , s] = (await sign(key, 'HS256')).split('.');
    return `${h}.${b64url({ sub: 'admin', exp: exp(), topics: ['>'] })}.${s}`;
  }],
  ['tampered header (HS256 → HS512)', async () => {
    const [, p, s] = (await sign(key, 'HS256')).split('.');
    return `${b64url({ alg: 'HS512' })}.${p}.${s}`;
  }],
  ['other secret', () => sign(secretBytes('another-secret-of-sufficient-length-0123456789'), 'HS256')],
  ['truncated signature', async () => (await sign(key, 'HS256')).slice(0, -4)],
  ['empty signature', async () => `${(await sign(key, 'HS256')).split('.').slice(0, 2).join('.')}.`],
  ['signature with + and /', async () => (await sign(key, 'HS256')).slice(0, -2) + '+/'],
  ['signature not base64', async () => `${(await sign(key, 'HS256')).slice(0, -2)}!!`],
  ['expired', () => sign(key, 'HS256', { exp: nowSec() - 60 })],
  ['expired within the tolerance', () => sign(key, 'HS256', { exp: nowSec() - 2 })],
  ['expired, no tolerance', () => sign(key, 'HS256', { exp: nowSec() - 2 }), { clockToleranceSec: 0 }],
  ['exp exactly now, no tolerance', () => sign(key, 'HS256', { exp: nowSec() - 1 }), { clockToleranceSec: 0 }],
  ['nbf in the future', () => sign(key, 'HS256', { nbf: nowSec() + 120 })],
  ['nbf within the tolerance', () => sign(key, 'HS256', { nbf: nowSec() + 2 })],
  ['nbf in the future and expired', () => sign(key, 'HS256', { nbf: nowSec() + 120, exp: nowSec() - 120 })],
  ['nbf not a number', () => handSigned({ alg: 'HS256' }, { ...base(), nbf: 'soon' })],
  ['exp not a number', () => handSigned({ alg: 'HS256' }, { ...base(), exp: 'tomorrow' })],
  ['exp null', () => handSigned({ alg: 'HS256' }, { ...base(), exp: null })],
  ['iat a string', () => handSigned({ alg: 'HS256' }, { ...base(), iat: '1' })],
  ['iat a string and expired', () => handSigned({ alg: 'HS256' }, { ...base(), iat: '1', exp: 1 })],
  ['iat in the future', () => handSigned({ alg: 'HS256' }, { ...base(), iat: nowSec() + 9999 })],
  ['missing exp', () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(key)],
  ['missing exp, requireExp false', () => new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'HS256' }).sign(key), { requireExp: false }],
  ['missing sub', () => handSigned({ alg: 'HS256' }, { exp: exp() })],
  ['missing sub and exp', () => handSigned({ alg: 'HS256' }, {})],
  ['sub a number', () => handSigned({ alg: 'HS256' }, { ...base(), sub: 42 })],
  ['sub with a control character', () => handSigned({ alg: 'HS256' }, { ...base(), sub: 'a\u0000b' })],
  ['sub over 256 bytes', () => handSigned({ alg: 'HS256' }, { ...base(), sub: 'é'.repeat(129) })],
  ['sub empty', () => handSigned({ alg: 'HS256' }, { ...base(), sub: '' })],
  ['topics not an array', () => handSigned({ alg: 'HS256' }, { ...base(), topics: 'news' })],
  ['topics with junk', () => handSigned({ alg: 'HS256' }, { ...base(), topics: ['ok', 7, 'bad..x', 'x.>'] })],
  ['aud matches', () => handSigned({ alg: 'HS256' }, { ...base(), aud: 'herald' }), { audience: 'herald' }],
  ['aud array includes', () => handSigned({ alg: 'HS256' }, { ...base(), aud: ['x', 'herald'] }), { audience: 'herald' }],
  ['aud array without it', () => handSigned({ alg: 'HS256' }, { ...base(), aud: ['x', 'y'] }), { audience: 'herald' }],
  ['aud wrong', () => handSigned({ alg: 'HS256' }, { ...base(), aud: 'other' }), { audience: 'herald' }],
  ['aud missing', () => handSigned({ alg: 'HS256' }, base()), { audience: 'herald' }],
  ['aud a number', () => handSigned({ alg: 'HS256' }, { ...base(), aud: 1 }), { audience: 'herald' }],
  ['aud not configured', () => handSigned({ alg: 'HS256' }, { ...base(), aud: 'anything' })],
  ['iss matches', () => handSigned({ alg: 'HS256' }, { ...base(), iss: 'https://idp' }), { issuer: 'https://idp' }],
  ['iss wrong', () => handSigned({ alg: 'HS256' }, { ...base(), iss: 'https://evil' }), { issuer: 'https://idp' }],
  ['iss missing', () => handSigned({ alg: 'HS256' }, base()), { issuer: 'https://idp' }],
  ['iss an array', () => handSigned({ alg: 'HS256' }, { ...base(), iss: ['https://idp'] }), { issuer: 'https://idp' }],
  ['typ ignored', () => handSigned({ alg: 'HS256', typ: 'something/else' }, base())],
  ['crit with an unknown extension', () => handSigned({ alg: 'HS256', crit: ['exp'], exp: 1 }, base())],
  ['crit empty', () => handSigned({ alg: 'HS256', crit: [] }, base())],
  ['crit not an array', () => handSigned({ alg: 'HS256', crit: 'b64' }, base())],
  ['crit null', () => handSigned({ alg: 'HS256', crit: null }, base())],
  ['crit b64 without b64', () => handSigned({ alg: 'HS256', crit: ['b64'] }, base())],
  ['crit b64 with b64 false', () => handSigned({ alg: 'HS256', crit: ['b64'], b64: false }, base())],
  ['crit b64 with b64 true (jose accepts it)', () => handSigned({ alg: 'HS256', crit: ['b64'], b64: true }, base())],
  ['crit b64 with b64 "true"', () => handSigned({ alg: 'HS256', crit: ['b64'], b64: 'true' }, base())],
  ['crit on alg none', () => `${b64url({ alg: 'none', crit: ['zip'] })}.${b64url(base())}.`],
  ['b64 false without crit (ignored)', () => handSigned({ alg: 'HS256', b64: false }, base())],
  ['overlong token', () => sign(key, 'HS256', { pad: 'x'.repeat(9000) })],
  ['token over maxTokenChars', () => sign(key, 'HS256'), { maxTokenChars: 50 }],
  ['empty token', () => ''],
  ['garbage', () => 'not-a-jwt'],
  ['two segments', () => 'a.b'],
  ['four segments', async () => `${await sign(key, 'HS256')}.x`],
  ['empty header segment', () => `.${b64url(base())}.sig`],
  ['bad base64 header', () => '!!!.e30.sig'],
  ['header with + chars', () => `${b64url({ alg: 'HS256' })}+.e30.sig`],
  ['non-JSON header', () => `${raw('nope')}.e30.sig`],
  ['header a JSON array', () => `${b64url([{ alg: 'HS256' }])}.e30.sig`],
  ['header JSON null', () => `${raw('null')}.e30.sig`],
  ['header not UTF-8', () => `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.e30.sig`],
  ['header with a BOM', () => handSigned(Buffer.from('\ufeff{"alg":"HS256"}').toString('base64url'), base())],
  ['header with padding', () => handSigned(`${b64url({ alg: 'HS256' })}==`, base())],
  ['header with whitespace', () => handSigned(`${b64url({ alg: 'HS256' }).slice(0, 4)} ${b64url({ alg: 'HS256' }).slice(4)}`, base())],
  ['payload a JSON array, signed', () => handSigned({ alg: 'HS256' }, raw('[1]'))],
  ['payload a JSON string, signed', () => handSigned({ alg: 'HS256' }, raw('"x"'))],
  ['payload not JSON, signed', () => handSigned({ alg: 'HS256' }, raw('{oops'))],
  ['payload not base64, signed', () => handSigned({ alg: 'HS256' }, 'a!b')],
  ['payload with non-ASCII', () => `${b64url({ alg: 'HS256' })}.é.sig`],
  ['payload a JSON array, unsigned', () => `${b64url({ alg: 'HS256' })}.${b64url([1])}.sig`],
  ['payload with duplicate keys (last wins)', () => handSigned({ alg: 'HS256' }, raw(`{"sub":"admin","sub":"u1","exp":${exp()}}`))],
  ['payload with __proto__', () => handSigned({ alg: 'HS256' }, raw(`{"__proto__":{"x":1},"sub":"u1","exp":${exp()}}`))],
  ['huge exp (Infinity after parsing)', () => handSigned({ alg: 'HS256' }, raw('{"sub":"u1","exp":1e400}'))],
];

type Outcome = { ok: true; token: Pick<VerifiedToken, 'sub' | 'exp' | 'iat'> & { patterns: readonly string[] } } | { ok: false; code: string };

function settle(run: () => VerifiedToken | Promise<VerifiedToken>): Promise<Outcome> {
  return new Promise<VerifiedToken>((resolve) => resolve(run())).then(
    (v) => ({ ok: true as const, token: { sub: v.sub, exp: v.exp, iat: v.iat, patterns: v.topics.patterns } }),
    (err: unknown) => {
      if (!(err instanceof AuthError)) throw err;
      return { ok: false as const, code: err.code };
    },
  );
}

describe('verifySync', () => {
  it('exists for an HMAC secret only', () => {
    expect(createTokenVerifier({ hmacSecret: SECRET }).verifySync).toBeTypeOf('function');
    expect(createTokenVerifier({ publicKey: makeKeyPair('ES256').pem }).verifySync).toBeUndefined();
    expect(createTokenVerifier({ jwksUrl: 'https://idp.example/jwks.json' }).verifySync).toBeUndefined();
  });

  it('answers synchronously', async () => {
    const v = createTokenVerifier({ hmacSecret: SECRET });
    const token = await sign(key, 'HS256');
    expect(v.verifySync?.(token).sub).toBe('u1');
    expect(() => v.verifySync?.('a.b')).toThrow(AuthError);
  });

  it.each(CASES)('agrees with verify: %s', async (_, make, overrides = {}) => {
    const v = createTokenVerifier({ hmacSecret: SECRET, ...overrides });
    const token = await make();
    const viaJose = await settle(() => v.verify(token));
    const viaSync = await settle(() => (v.verifySync as (t: string) => VerifiedToken)(token));
    expect(viaSync).toEqual(viaJose);
  });

  it('the cases cover acceptance and every refusal code but key_unavailable', async () => {
    const seen = new Set<string>();
    for (const [, make, overrides = {}] of CASES) {
      const v = createTokenVerifier({ hmacSecret: SECRET, ...overrides });
      const token = await make();
      const o = await settle(() => v.verify(token));
      seen.add(o.ok ? 'ok' : o.code);
    }
    expect([...seen].sort()).toEqual(['alg_not_allowed', 'claims_invalid', 'ok', 'token_expired', 'token_invalid', 'token_missing']);
  });
});
