/**
 * VAPID (RFC 8292) application server keys: generation and validation. The private key is a
 * secret: it is never logged and never leaves the process except in the JWT signature.
 * @module
 */
import { createECDH } from 'node:crypto';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import { PushError } from './errors.js';

/** A VAPID key pair: the P-256 public key (65-byte uncompressed point) and private scalar (32 bytes), base64url. */
export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
}

/** The VAPID identity of this server: keys plus the contact (`mailto:` or `https:` URL). */
export interface VapidDetails extends VapidKeys {
  readonly subject: string;
}

/** `mailto:` address or `https:` URL (RFC 8292 §2.1: the push service operator's contact). */
export const VAPID_SUBJECT_PATTERN = /^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s]+)$/;

/**
 * A fresh VAPID key pair (P-256, node:crypto). Give the public key to browsers
 * (`pushManager.subscribe({ applicationServerKey })`) and keep the private key secret.
 * @example
 * const { publicKey, privateKey } = generateVapidKeys();
 */
export function generateVapidKeys(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // A private scalar with leading zero bytes comes back shorter than 32 bytes: pad it.
  const priv = Buffer.alloc(32);
  const raw = ecdh.getPrivateKey();
  raw.copy(priv, 32 - raw.length);
  return { publicKey: encodeBase64url(ecdh.getPublicKey(undefined, 'uncompressed')), privateKey: encodeBase64url(priv) };
}

/** Why `details` are unusable, or `undefined` when they are a matching P-256 pair with a valid subject. */
export function vapidProblem(details: Partial<VapidDetails>): string | undefined {
  const { publicKey, privateKey, subject } = details;
  if (publicKey === undefined || privateKey === undefined || subject === undefined) {
    return 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT are set together or not at all';
  }
  if (!VAPID_SUBJECT_PATTERN.test(subject)) return 'VAPID_SUBJECT must be a mailto: address or an https: URL';
  const pub = decodeBase64url(publicKey);
  if (!pub || pub.length !== 65 || pub[0] !== 4) return 'VAPID_PUBLIC_KEY must be a base64url P-256 uncompressed point (65 bytes)';
  const priv = decodeBase64url(privateKey);
  if (!priv || priv.length !== 32) return 'VAPID_PRIVATE_KEY must be a base64url P-256 private key (32 bytes)';
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    if (!ecdh.getPublicKey().equals(pub)) return 'VAPID_PUBLIC_KEY is not the public key of VAPID_PRIVATE_KEY';
  } catch {
    return 'VAPID_PRIVATE_KEY is not a valid P-256 private key';
  }
  return undefined;
}

/** Throws PushError('invalid_vapid') unless {@link vapidProblem} finds nothing. */
export function assertVapid(details: Partial<VapidDetails>): asserts details is VapidDetails {
  const problem = vapidProblem(details);
  if (problem) throw new PushError('invalid_vapid', problem);
}
