/** mintToken: the JWT a browser or device connects with (claims per docs/protocol.md "JWT claims"). */
import { importPKCS8, SignJWT, type CryptoKey, type KeyObject } from 'jose';

const SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOPIC_CHARS = 200;
const MAX_TOPIC_SEGMENTS = 8;
const MAX_USER_ID_BYTES = 256;

type HmacAlg = 'HS256' | 'HS384' | 'HS512';
type PublicKeyAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

interface Claims {
  /** The user id (1 to 256 bytes of UTF-8, no control characters). */
  readonly sub: string;
  /** Topic patterns the connection may subscribe to: `news`, `orders.*`, `orders.>`, `>`. Omitted: none. */
  readonly topics?: readonly string[];
  /** Lifetime: seconds, or a jose time span (`'10m'`, `'2h'`). Default 1 hour. */
  readonly ttl?: number | string;
  /** Application data about the connection, carried in the token as the `info` claim (any JSON value). */
  readonly info?: unknown;
  /** Set when the gateway checks `HERALD_JWT_AUDIENCE` / `HERALD_JWT_ISSUER`. */
  readonly audience?: string;
  readonly issuer?: string;
}

/** Signed with the gateway's HMAC secret (`HERALD_JWT_SECRET`) or with a private key whose public half the gateway holds. */
export type MintTokenOptions = Claims &
  (
    | { readonly secret: string; readonly alg?: HmacAlg; readonly privateKey?: never }
    | { readonly privateKey: string | CryptoKey | KeyObject; readonly alg: PublicKeyAlg; readonly secret?: never }
  );

/**
 * Signs a connection token with `sub`, `iat`, `exp` and, when given, `topics`, `info`, `aud`, `iss`.
 * @throws TypeError on an invalid `sub`, topic pattern, ttl or key.
 * @example await mintToken({ secret, sub: '42', topics: ['news', 'orders.>'], ttl: '1h' })
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const { sub, topics, ttl = 3600 } = options;
  if (!isValidUserId(sub)) throw new TypeError('sub must be 1 to 256 bytes of UTF-8 without control characters');
  const bad = topics?.find((t) => !isValidTopicPattern(t));
  if (bad !== undefined) throw new TypeError(`invalid topic pattern ${JSON.stringify(bad)}`);
  if (typeof ttl === 'number' && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new TypeError('ttl must be a positive integer of seconds');
  const claims: Record<string, unknown> = {};
  if (topics !== undefined) claims['topics'] = [...topics];
  if (options.info !== undefined) claims['info'] = options.info;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(typeof ttl === 'number' ? now + ttl : ttl);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  return jwt.sign(await signingKey(options));
}

async function signingKey(options: MintTokenOptions): Promise<Uint8Array | CryptoKey | KeyObject> {
  if (options.secret !== undefined) {
    if (typeof options.secret !== 'string' || options.secret === '') throw new TypeError('secret must be a non-empty string');
    return new TextEncoder().encode(options.secret);
  }
  const key = options.privateKey;
  if (key === undefined) throw new TypeError('give secret or privateKey');
  return typeof key === 'string' ? importPKCS8(key, options.alg) : key;
}

function isValidUserId(sub: unknown): sub is string {
  return typeof sub === 'string' && sub.length > 0 && Buffer.byteLength(sub) <= MAX_USER_ID_BYTES && !/[\u0000-\u001f\u007f-\u009f]/.test(sub) && !/[\uD800-\uDFFF]/u.test(sub); // no controls, no lone surrogates
}

function isValidTopicPattern(p: unknown): boolean {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_TOPIC_CHARS) return false;
  const segments = p.split('.');
  const last = segments.length - 1;
  return segments.length <= MAX_TOPIC_SEGMENTS && segments.every((s, i) => s === '*' || (s === '>' && i === last) || SEGMENT.test(s));
}
