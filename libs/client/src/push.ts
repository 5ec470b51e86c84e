/**
 * `@herald/client/push`: registers this browser for Web Push with a Herald server
 * (docs/push.md#the-sdk-helper). A separate entry, so the main client stays its size.
 *
 * ```ts
 * import { registerPush } from '@herald/client/push';
 * await navigator.serviceWorker.register('/sw.js');
 * const { id } = await registerPush({ url: 'https://api.example.com', token: () => getUserToken() });
 * ```
 *
 * Steps: read the server's VAPID public key (`GET /v1/push/vapid-public-key`), subscribe with
 * the service worker's `pushManager` (reusing a subscription made with the same key, replacing
 * one made with another), and register it (`POST /v1/push-subscriptions` with the user's token).
 * @module
 */

/** What went wrong, as a code the app can branch on. */
export type PushRegistrationErrorCode =
  /** No service worker or Push API in this browser (or not a secure context). */
  | 'unsupported'
  /** The user refused notifications. */
  | 'denied'
  /** The server has no VAPID key (Web Push off): 404 from the key route. */
  | 'not_configured'
  /** The browser's push service refused the subscription, or did not answer within `subscribeTimeoutMs`. */
  | 'subscribe_failed'
  /** The server refused the registration (`status` says why: 401 token, 400 subscription, 503 try later). */
  | 'rejected'
  /** The server could not be reached. */
  | 'network';

export class PushRegistrationError extends Error {
  readonly code: PushRegistrationErrorCode;
  /** HTTP status of a refused request. */
  readonly status: number | undefined;
  constructor(code: PushRegistrationErrorCode, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PushRegistrationError';
    this.code = code;
    this.status = status;
  }
}

/** The part of a ServiceWorkerRegistration this helper uses. */
export interface PushRegistrationTarget {
  readonly pushManager: Pick<PushManager, 'getSubscription' | 'subscribe'>;
}

export interface RegisterPushOptions {
  /** Base URL of the Herald publish API (`https://api.example.com`, or the `herald dev` URL). */
  readonly url: string;
  /** The user's token (the one used to connect), or a function giving a fresh one. */
  readonly token: string | (() => string | Promise<string>);
  /** The service worker registration; default `navigator.serviceWorker.ready`. */
  readonly registration?: PushRegistrationTarget;
  /** The server's VAPID public key (base64url); default: read from the server. */
  readonly vapidPublicKey?: string;
  /** fetch to use (default the global one). */
  readonly fetch?: typeof fetch;
  /**
   * How long `pushManager.subscribe` may take, ms (default 30,000): a browser that cannot reach
   * its push service may never settle it (Chromium without one, measured: docs/push.md). Past
   * it, `subscribe_failed`; should the browser subscribe later, the next call reuses that subscription.
   */
  readonly subscribeTimeoutMs?: number;
}

const SUBSCRIBE_TIMEOUT_MS = 30_000;

/** `p`, or a rejection with `PushRegistrationError('subscribe_failed')` after `ms`. */
function withinMs<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PushRegistrationError('subscribe_failed', `the push service did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export interface PushRegistration {
  /** The server's id of this subscription. */
  readonly id: string;
  /** What was registered (`PushSubscription.toJSON()`). */
  readonly subscription: PushSubscriptionJSON;
}

/** base64url (padded or not) → bytes. */
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

async function request(f: typeof fetch, url: string, init?: RequestInit): Promise<Response> {
  try {
    return await f(url, init);
  } catch (err) {
    throw new PushRegistrationError('network', `cannot reach ${url}`, undefined, { cause: err });
  }
}

/** Reads the server's VAPID public key (`GET /v1/push/vapid-public-key`). */
export async function fetchVapidPublicKey(url: string, f: typeof fetch = fetch): Promise<string> {
  const res = await request(f, `${url.replace(/\/+$/, '')}/v1/push/vapid-public-key`);
  if (res.status === 404) throw new PushRegistrationError('not_configured', 'Web Push is not configured on this server', 404);
  if (!res.ok) throw new PushRegistrationError('rejected', `the server answered ${res.status}`, res.status);
  const body = (await res.json()) as { publicKey?: unknown };
  if (typeof body.publicKey !== 'string') throw new PushRegistrationError('rejected', 'no publicKey in the answer', res.status);
  return body.publicKey;
}

async function defaultRegistration(): Promise<PushRegistrationTarget> {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  if (!nav?.serviceWorker || !('PushManager' in globalThis)) throw new PushRegistrationError('unsupported', 'this browser has no service worker or Push API');
  return nav.serviceWorker.ready;
}

/** Subscribes this browser to Web Push and registers the subscription for the token's user. */
export async function registerPush(o: RegisterPushOptions): Promise<PushRegistration> {
  const f = o.fetch ?? fetch;
  const base = o.url.replace(/\/+$/, '');
  const reg = o.registration ?? (await defaultRegistration());
  const key = base64UrlToBytes(o.vapidPublicKey ?? (await fetchVapidPublicKey(base, f)));
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options.applicationServerKey, key)) {
    // Made with another key: a push signed by this server's key would be refused (RFC 8292 §4.2).
    await sub.unsubscribe();
    sub = null;
  }
  if (!sub) {
    try {
      sub = await withinMs(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }), o.subscribeTimeoutMs ?? SUBSCRIBE_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof PushRegistrationError) throw err;
      const denied = (err as { name?: string }).name === 'NotAllowedError';
      throw new PushRegistrationError(denied ? 'denied' : 'subscribe_failed', denied ? 'notifications were refused' : 'the push service refused the subscription', undefined, { cause: err });
    }
  }
  const subscription = sub.toJSON();
  const token = typeof o.token === 'function' ? await o.token() : o.token;
  const res = await request(f, `${base}/v1/push-subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(subscription),
  });
  if (res.status === 404) throw new PushRegistrationError('not_configured', 'Web Push is not configured on this server', 404);
  if (res.status !== 201) throw new PushRegistrationError('rejected', `the server refused the subscription (${res.status})`, res.status);
  const body = (await res.json()) as { id?: unknown };
  return { id: typeof body.id === 'string' ? body.id : '', subscription };
}

/** Ends this browser's push subscription (the server drops it at the next push, on the push service's 410). */
export async function unregisterPush(registration?: PushRegistrationTarget): Promise<boolean> {
  const reg = registration ?? (await defaultRegistration());
  const sub = await reg.pushManager.getSubscription();
  return sub ? sub.unsubscribe() : false;
}
