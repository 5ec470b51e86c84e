/**
 * One push to one subscription: encrypt (RFC 8291 aes128gcm) and sign (RFC 8292 VAPID) with
 * the `web-push` library, POST it (RFC 8030) with fetch, and read the push service's answer:
 * 201 sent, 404/410 gone (the caller removes the subscription), 429/5xx/network retried with
 * bounded backoff honouring Retry-After, anything else a permanent failure.
 * @module
 */
import webpush from 'web-push';
import type { Logger } from '@herald/telemetry';
import { assertOptions, payloadBytes, type PushOptions } from './options.js';
import { backoffMs, DEFAULT_RETRY, parseRetryAfter, type RetryPolicy } from './retry.js';
import type { PushSubscription } from './subscription.js';
import { assertVapid, type VapidDetails } from './vapid.js';

export type SendResult =
  | { readonly status: 'sent'; readonly httpStatus: number; readonly attempts: number }
  /** 404/410: the subscription is gone for good (RFC 8030 §7.3). */
  | { readonly status: 'gone'; readonly httpStatus: number; readonly attempts: number }
  /** Still failing after the retries (429/5xx/network), or refused (4xx). */
  | { readonly status: 'failed'; readonly httpStatus?: number; readonly attempts: number; readonly retryable: boolean };

export interface PushSenderOptions {
  readonly vapid: VapidDetails;
  /** Timeout of one request, ms (default 10 s). */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: Logger;
  /** Waits between retries (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A VAPID JWT lives 12 h (RFC 8292 allows 24) and is reused until an hour before it ends. */
const VAPID_LIFETIME_S = 12 * 3600;
const VAPID_REFRESH_S = 3600;
/** Push services answer with a short body; read at most this much of it (for logs). */
const MAX_ERROR_BODY_BYTES = 512;

export class PushSender {
  readonly #vapid: VapidDetails;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #logger: Logger | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Authorization header per push service origin (the JWT `aud`), with its expiry in s. */
  readonly #authByOrigin = new Map<string, { header: string; exp: number }>();

  constructor(options: PushSenderOptions) {
    assertVapid(options.vapid);
    this.#vapid = options.vapid;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#logger = options.logger;
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** The encrypted, signed request for one push (no I/O): also the unit the cost figure measures. */
  prepare(subscription: PushSubscription, payload: string | Uint8Array, options: PushOptions): { headers: Record<string, string>; body: Buffer } {
    assertOptions(options);
    const bytes = payloadBytes(payload);
    const details = webpush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: subscription.keys },
      bytes,
      {
        TTL: options.ttlSeconds,
        ...(options.urgency ? { urgency: options.urgency } : {}),
        ...(options.topic ? { topic: options.topic } : {}),
        headers: { Authorization: this.#authorization(subscription.endpoint) },
        contentEncoding: 'aes128gcm',
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(details.headers)) headers[name] = String(value);
    delete headers['Content-Length']; // fetch sets it from the body
    return { headers, body: details.body ?? Buffer.alloc(0) };
  }

  /** Sends one push with retries. Throws PushError for a bad payload or options; I/O failures are results. */
  async send(subscription: PushSubscription, payload: string | Uint8Array, options: PushOptions): Promise<SendResult> {
    const request = this.prepare(subscription, payload, options);
    for (let attempt = 1; ; attempt++) {
      const answer = await this.#post(subscription.endpoint, request);
      if (answer.status >= 200 && answer.status < 300) return { status: 'sent', httpStatus: answer.status, attempts: attempt };
      if (answer.status === 404 || answer.status === 410) return { status: 'gone', httpStatus: answer.status, attempts: attempt };
      const retryable = answer.status === 0 || answer.status === 429 || answer.status >= 500;
      const log = { sub: subscription.id, httpStatus: answer.status, attempt, body: answer.body };
      if (!retryable || attempt >= this.#retry.maxAttempts) {
        this.#logger?.warn(log, 'push not accepted');
        return { status: 'failed', ...(answer.status ? { httpStatus: answer.status } : {}), attempts: attempt, retryable };
      }
      const delay = answer.retryAfterMs ?? backoffMs(attempt, this.#retry);
      if (delay > this.#retry.maxDelayMs) {
        this.#logger?.warn({ ...log, retryAfterMs: delay }, 'push service asks to wait longer than the retry bound');
        return { status: 'failed', httpStatus: answer.status, attempts: attempt, retryable: true };
      }
      this.#logger?.debug({ ...log, delayMs: delay }, 'push retried');
      await this.#sleep(delay);
    }
  }

  async #post(endpoint: string, request: { headers: Record<string, string>; body: Buffer }): Promise<{ status: number; retryAfterMs?: number; body?: string }> {
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        // A redirect would send the push elsewhere than the registered endpoint: refuse it.
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const body = res.ok ? undefined : await readBounded(res);
      if (res.ok) await res.body?.cancel();
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      return { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(body ? { body } : {}) };
    } catch (err) {
      this.#logger?.debug({ err }, 'push request failed');
      return { status: 0 };
    }
  }

  #authorization(endpoint: string): string {
    const origin = new URL(endpoint).origin;
    const now = Math.floor(Date.now() / 1000);
    const cached = this.#authByOrigin.get(origin);
    if (cached && cached.exp - now > VAPID_REFRESH_S) return cached.header;
    const exp = now + VAPID_LIFETIME_S;
    const { subject, publicKey, privateKey } = this.#vapid;
    const header = webpush.getVapidHeaders(origin, subject, publicKey, privateKey, 'aes128gcm', exp).Authorization;
    if (this.#authByOrigin.size >= 1000) this.#authByOrigin.clear(); // a handful of push services in practice
    this.#authByOrigin.set(origin, { header, exp });
    return header;
  }
}

/** The start of an error body, for logs: never more than MAX_ERROR_BODY_BYTES read from an untrusted server. */
async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // a broken body only loses the log detail
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8');
}
