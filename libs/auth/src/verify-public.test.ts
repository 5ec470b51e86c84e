// Unit tests for verify.ts with public keys (PEM, X.509, JWK): each family, and algorithm confusion.
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { X509_CERT, X509_PRIVATE_KEY, makeKeyPair, nowSec, rejection, sign, type TestKeyAlg } from '../test/helpers.js';
import { createTokenVerifier } from './verify.js';

const ALGS: readonly TestKeyAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const pairs = new Map(ALGS.map((alg) => [alg, makeKeyPair(alg)]));
function pair(alg: TestKeyAlg): ReturnType<typeof makeKeyPair> {
  const p = pairs.get(alg);
  if (p === undefined) throw new Error(alg);
  return p;
}

describe.each(ALGS)('%s', (alg) => {
  const { privateKey, pem, jwk } = pair(alg);

  it('verifies with a PEM public key', async () => {
    const v = createTokenVerifier({ publicKey: pem });
    const t = await sign(privateKey, alg, { sub: 'pem-user', topics: ['a.>'] });
    const r = await v.verify(t);
    expect(r.sub).toBe('pem-user');
    expect(r.topics.allows('a.b')).toBe(true);
  });

  it('verifies with a JWK public key', async () => {
    const v = createTokenVerifier({ publicKey: JSON.stringify(jwk) });
    expect((await v.verify(await sign(privateKey, alg, { sub: 'jwk-user' }))).sub).toBe('jwk-user');
  });

  it('verifies with a JWK that names its alg, kid and use', async () => {
    const v = createTokenVerifier({ publicKey: JSON.stringify({ ...jwk, alg, kid: 'k1', use: 'sig' }) });
    expect((await v.verify(await sign(privateKey, alg, {}, { kid: 'k1' }))).sub).toBe('u1');
  });

  it('refuses a token signed by another key', async () => {
    const v = createTokenVerifier({ publicKey: pem });
    const t = await sign(makeKeyPair(alg).privateKey, alg);
    expect((await rejection(v.verify(t), t)).code).toBe('token_invalid');
  });

  it('refuses a tampered token', async () => {
    const v = createTokenVerifier({ publicKey: pem });
    const [h, p, s] = (await sign(privateKey, alg)).split('.');
    const flipped = `${s?.startsWith('A') ? 'B' : 'A'}${s?.slice(1)}`;
    expect((await rejection(v.verify(`${h}.${p}.${flipped}`))).code).toBe('token_invalid');
  });

  it('refuses an expired token', async () => {
    const v = createTokenVerifier({ publicKey: pem });
    const t = await sign(privateKey, alg, { exp: nowSec() - 3600 });
    expect((await rejection(v.verify(t), t)).code).toBe('token_expired');
  });
});

describe('public keys', () => {
  it('verifies with an X.509 certificate', async () => {
    const v = createTokenVerifier({ publicKey: X509_CERT });
    const t = await sign(createPrivateKey(X509_PRIVATE_KEY), 'ES256', { sub: 'cert-user' });
    expect((await v.verify(t)).sub).toBe('cert-user');
  });

  it('accepts a PEM whose newlines are escaped as \\n (environment variables)', async () => {
    const { privateKey, pem } = pair('ES256');
    const v = createTokenVerifier({ publicKey: pem.trim().replaceAll('\n', '\\n') });
    expect((await v.verify(await sign(privateKey, 'ES256'))).sub).toBe('u1');
  });

  it('accepts RS384/RS512/PS512 with an RSA key by default', async () => {
    const { privateKey, pem } = pair('RS256');
    const v = createTokenVerifier({ publicKey: pem });
    for (const alg of ['RS384', 'RS512', 'PS384', 'PS512']) expect((await v.verify(await sign(privateKey, alg))).sub).toBe('u1');
  });

  it('refuses an RSA token outside a configured allow-list', async () => {
    const { privateKey, pem } = pair('RS256');
    const v = createTokenVerifier({ publicKey: pem, algorithms: ['PS256'] });
    const t = await sign(privateKey, 'RS256');
    expect((await rejection(v.verify(t), t)).code).toBe('alg_not_allowed');
  });

  it('refuses an RSA-signed token against an EC key (alg the key cannot do)', async () => {
    const { pem } = pair('ES256');
    const v = createTokenVerifier({ publicKey: pem });
    const t = await sign(makeKeyPair('RS256').privateKey, 'RS256');
    expect((await rejection(v.verify(t), t)).code).toBe('alg_not_allowed');
  });

  it('refuses HMAC/RSA confusion: HS256 signed with the public key PEM bytes', async () => {
    const { pem, jwk } = pair('RS256');
    const attack = await new SignJWT({ sub: 'admin', exp: nowSec() + 3600, topics: ['>'] })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(pem));
    for (const publicKey of [pem, JSON.stringify(jwk)]) {
      const v = createTokenVerifier({ publicKey });
      expect((await rejection(v.verify(attack), attack)).code).toBe('alg_not_allowed');
    }
  });

  it('refuses alg:none against a public key', async () => {
    const v = createTokenVerifier({ publicKey: pair('EdDSA').pem });
    const t = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"sub":"u","exp":${nowSec() + 60}}`).toString('base64url')}.`;
    expect((await rejection(v.verify(t), t)).code).toBe('alg_not_allowed');
  });
});
