// The stand-in push service's receiving crypto, checked against the RFC 8291 Appendix A
// example (so the end-to-end tests do not merely agree with the sender's own library).
import { createECDH, createSign, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptAes128gcm, verifyVapid, type UaKeys } from './push-crypto.js';

const b64 = (s: string): Buffer => Buffer.from(s, 'base64url');

describe('decryptAes128gcm', () => {
  const ua: UaKeys = {
    privateKey: b64('q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94'),
    publicKey: b64('BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4'),
    authSecret: b64('BTBZMqHH6r4Tts7J_aSIgg'),
  };
  const body = b64(
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
  );

  it('decrypts the RFC 8291 Appendix A message', () => {
    expect(decryptAes128gcm(body, ua).toString()).toBe('When I grow up, I want to be a watermelon');
  });

  it('refuses a tampered body and a wrong auth secret', () => {
    const tampered = Buffer.from(body);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(() => decryptAes128gcm(tampered, ua)).toThrow(/authentication tag/);
    expect(() => decryptAes128gcm(body, { ...ua, authSecret: Buffer.alloc(16) })).toThrow(/authentication tag/);
    expect(() => decryptAes128gcm(body.subarray(0, 10), ua)).toThrow(/shorter/);
  });
});

describe('verifyVapid', () => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const pub = ecdh.getPublicKey();
  const key = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', d: ecdh.getPrivateKey().toString('base64url'), x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const now = 1_800_000_000;
  const jwt = (claims: object): string => {
    const head = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const sig = createSign('sha256').update(`${head}.${body}`).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    return `vapid t=${head}.${body}.${sig}, k=${pub.toString('base64url')}`;
  };
  const good = { aud: 'https://push.example', exp: now + 3600, sub: 'mailto:a@b.c' };

  it('accepts a well-formed header', () => {
    expect(verifyVapid(jwt(good), 'https://push.example', now)).toMatchObject({ sub: 'mailto:a@b.c', publicKey: pub.toString('base64url') });
  });

  it.each([
    ['another audience', { ...good, aud: 'https://other.example' }, /aud/],
    ['an expired token', { ...good, exp: now - 1 }, /exp/],
    ['an exp beyond 24 h', { ...good, exp: now + 25 * 3600 }, /24 h/],
    ['no sub', { aud: good.aud, exp: good.exp }, /sub/],
  ])('refuses %s', (_name, claims, reason) => {
    expect(() => verifyVapid(jwt(claims), 'https://push.example', now)).toThrow(reason);
  });

  it('refuses a signature by another key and a non-vapid scheme', () => {
    const other = createECDH('prime256v1');
    other.generateKeys();
    const forged = jwt(good).replace(/k=.*$/, `k=${other.getPublicKey().toString('base64url')}`);
    expect(() => verifyVapid(forged, 'https://push.example', now)).toThrow(/signature/);
    expect(() => verifyVapid('Bearer x', 'https://push.example', now)).toThrow(/vapid/);
  });
});
