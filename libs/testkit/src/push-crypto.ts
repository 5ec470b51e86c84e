/**
 * The receiving side of Web Push, written on node:crypto alone (independent of the `web-push`
 * library that sends): a browser-like subscription key pair, RFC 8291 / RFC 8188 aes128gcm
 * decryption, and RFC 8292 VAPID JWT verification. Used by the stand-in push service.
 * @module
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';

/** A user agent's push keys, as a browser makes them (P-256 ECDH pair + 16-byte auth secret). */
export interface UaKeys {
  readonly privateKey: Buffer;
  /** Uncompressed point, 65 bytes. */
  readonly publicKey: Buffer;
  readonly authSecret: Buffer;
}

export function generateUaKeys(): UaKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { privateKey: ecdh.getPrivateKey(), publicKey: ecdh.getPublicKey(undefined, 'uncompressed'), authSecret: randomBytes(16) };
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** HKDF-Expand (RFC 5869) for one block (L ≤ 32), which is all RFC 8291 needs. */
function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  return hmac(prk, Buffer.concat([info, Buffer.from([1])])).subarray(0, length);
}

/** Header of an aes128gcm body (RFC 8188 §2.1). */
const HEADER_MIN = 16 + 4 + 1;
const TAG_BYTES = 16;

/**
 * Decrypts an RFC 8291 push message body. Throws an Error naming the step that failed
 * (the push service answers 400 with it).
 */
export function decryptAes128gcm(body: Buffer, ua: UaKeys): Buffer {
  if (body.length < HEADER_MIN) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  // RFC 8291 §4: the key id is the application server's ephemeral public key (65 bytes).
  if (idlen !== 65) throw new Error(`keyid is ${idlen} bytes, not a 65-byte P-256 point`);
  if (rs < TAG_BYTES + 2) throw new Error('record size too small');
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(ua.privateKey);
  const ecdhSecret = ecdh.computeSecret(asPublic);
  // RFC 8291 §3.3-3.4: IKM from the ECDH secret and the auth secret, then RFC 8188 CEK and nonce.
  const prkKey = hmac(ua.authSecret, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.publicKey, asPublic]);
  const ikm = expand(prkKey, keyInfo, 32);
  const prk = hmac(salt, ikm);
  const cek = expand(prk, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const baseNonce = expand(prk, Buffer.from('Content-Encoding: nonce\0'), 12);
  const records: Buffer[] = [];
  for (let seq = 0, offset = 0; offset < ciphertext.length; seq++, offset += rs) {
    const record = ciphertext.subarray(offset, offset + rs);
    const last = offset + rs >= ciphertext.length;
    records.push(unpad(decryptRecord(record, cek, nonceFor(baseNonce, seq)), last));
  }
  if (records.length === 0) throw new Error('no record');
  return Buffer.concat(records);
}

function nonceFor(base: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(base);
  nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8);
  return nonce;
}

function decryptRecord(record: Buffer, cek: Buffer, nonce: Buffer): Buffer {
  if (record.length <= TAG_BYTES) throw new Error('record shorter than its tag');
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(record.subarray(0, record.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw new Error('authentication tag mismatch (wrong keys or tampered body)', { cause: err });
  }
}

/** RFC 8188 §2: plaintext, one delimiter (2 in the last record, 1 before), then zero padding. */
function unpad(plain: Buffer, last: boolean): Buffer {
  let i = plain.length - 1;
  while (i >= 0 && plain[i] === 0) i--;
  if (i < 0) throw new Error('record without a padding delimiter');
  const delimiter = plain[i];
  if (delimiter !== (last ? 2 : 1)) throw new Error(`padding delimiter ${delimiter} in a ${last ? 'last' : 'non-last'} record`);
  return plain.subarray(0, i);
}

export interface VapidClaims {
  readonly aud: string;
  readonly exp: number;
  readonly sub: string;
  /** The application server's public key (`k`), base64url. */
  readonly publicKey: string;
}

/**
 * Verifies `Authorization: vapid t=<jwt>, k=<key>` (RFC 8292 §3): an ES256 JWT signed by `k`,
 * `aud` the endpoint's origin, `exp` in the future and at most 24 h away, `sub` present.
 * Throws an Error with the reason (the push service answers 401/403).
 */
export function verifyVapid(authorization: string | undefined, expectedAudience: string, nowS = Math.floor(Date.now() / 1000)): VapidClaims {
  const m = /^vapid\s+(.+)$/i.exec(authorization ?? '');
  if (!m?.[1]) throw new Error('Authorization is not a vapid scheme');
  const params = new Map<string, string>();
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const jwt = params.get('t');
  const k = params.get('k');
  if (!jwt || !k) throw new Error('vapid t= or k= missing');
  const [h, p, s, extra] = jwt.split('.');
  if (!h || !p || !s || extra !== undefined) throw new Error('t is not a compact JWS');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string; typ?: string };
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${String(header.alg)}, not ES256`);
  const point = Buffer.from(k, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const signature = Buffer.from(s, 'base64url');
  // JWS ES256 signatures are r||s (64 bytes), not DER.
  if (signature.length !== 64 || !verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, signature)) {
    throw new Error('JWT signature does not verify with k');
  }
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud?: unknown; exp?: unknown; sub?: unknown };
  if (claims.aud !== expectedAudience) throw new Error(`aud ${String(claims.aud)} is not ${expectedAudience}`);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS) throw new Error('exp missing or past');
  if (claims.exp > nowS + 24 * 3600) throw new Error('exp more than 24 h ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Error('sub missing or not mailto:/https:');
  return { aud: claims.aud, exp: claims.exp, sub: claims.sub, publicKey: k };
}
