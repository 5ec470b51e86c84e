/**
 * Push subscriptions (the browser's `PushSubscription.toJSON()`), validated as untrusted input:
 * the endpoint is a URL Herald will POST to, so it must be https (no credentials, no IP
 * literal) unless its origin is on an explicit allow-list (tests, loopback stand-ins).
 * @module
 */
import { createHash } from 'node:crypto';
import { decodeBase64url } from './base64url.js';

/** What a browser hands over after `pushManager.subscribe()`. */
export interface PushSubscriptionInput {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  readonly expirationTime?: number | null;
}

/** A validated subscription, as stored. */
export interface PushSubscription {
  /** Stable id derived from the endpoint: registering the same endpoint again replaces it. */
  readonly id: string;
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** ms since epoch; when set, the subscription is not used after it. */
  readonly expirationTime?: number;
  /** ms since epoch. */
  readonly createdAt: number;
}

/** Longest endpoint accepted (real push services use well under 1 KiB). */
export const MAX_ENDPOINT_LENGTH = 2048;
/** RFC 8291 §3.2: the user agent's public key is an uncompressed P-256 point. */
export const P256DH_BYTES = 65;
/** RFC 8291 §3.2: the authentication secret is 16 octets. */
export const AUTH_SECRET_BYTES = 16;

export interface SubscriptionRules {
  /**
   * Origins accepted over plain http or with an IP-literal host, e.g. `http://127.0.0.1:40123`
   * (the test push service). Exact origin match; empty in production.
   */
  readonly allowOrigins?: readonly string[];
}

export type SubscriptionCheck = { ok: true; subscription: PushSubscription } | { ok: false; message: string };

const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])$/;

/** The id of an endpoint: 22 base64url characters of its SHA-256. */
export function subscriptionId(endpoint: string): string {
  return createHash('sha256').update(endpoint).digest('base64url').slice(0, 22);
}

function endpointProblem(endpoint: unknown, rules: SubscriptionRules): string | undefined {
  if (typeof endpoint !== 'string' || endpoint.length === 0) return 'endpoint must be a URL';
  if (endpoint.length > MAX_ENDPOINT_LENGTH) return `endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be a URL';
  }
  if (url.username !== '' || url.password !== '') return 'endpoint must not hold credentials';
  if (url.hash !== '') return 'endpoint must not hold a fragment';
  if ((rules.allowOrigins ?? []).includes(url.origin)) return undefined;
  if (url.protocol !== 'https:') return 'endpoint must be an https URL';
  // Push services are named hosts; an IP literal or localhost points inside the network (SSRF).
  if (IP_LITERAL.test(url.hostname) || url.hostname === 'localhost' || url.hostname.endsWith('.localhost')) {
    return 'endpoint host must be a push service host name';
  }
  return undefined;
}

function keyProblem(keys: unknown): string | undefined {
  if (typeof keys !== 'object' || keys === null) return 'keys must be an object with p256dh and auth';
  const { p256dh, auth } = keys as Record<string, unknown>;
  const pub = typeof p256dh === 'string' && p256dh.length <= 200 ? decodeBase64url(p256dh) : undefined;
  if (!pub || pub.length !== P256DH_BYTES || pub[0] !== 4) return `keys.p256dh must be base64url of a ${P256DH_BYTES}-byte uncompressed P-256 point`;
  const secret = typeof auth === 'string' && auth.length <= 100 ? decodeBase64url(auth) : undefined;
  if (!secret || secret.length !== AUTH_SECRET_BYTES) return `keys.auth must be base64url of ${AUTH_SECRET_BYTES} bytes`;
  return undefined;
}

/** Validates untrusted input (any JSON value) into a {@link PushSubscription}; never throws. */
export function checkSubscription(input: unknown, rules: SubscriptionRules = {}, now = Date.now()): SubscriptionCheck {
  if (typeof input !== 'object' || input === null) return { ok: false, message: 'subscription must be an object' };
  const { endpoint, keys, expirationTime } = input as Record<string, unknown>;
  const problem = endpointProblem(endpoint, rules) ?? keyProblem(keys);
  if (problem) return { ok: false, message: problem };
  if (expirationTime !== undefined && expirationTime !== null && (typeof expirationTime !== 'number' || !Number.isFinite(expirationTime))) {
    return { ok: false, message: 'expirationTime must be a number or null' };
  }
  const k = keys as { p256dh: string; auth: string };
  const url = endpoint as string;
  const subscription: PushSubscription = {
    id: subscriptionId(url),
    endpoint: url,
    keys: { p256dh: k.p256dh, auth: k.auth },
    createdAt: now,
    ...(typeof expirationTime === 'number' ? { expirationTime } : {}),
  };
  return { ok: true, subscription };
}
