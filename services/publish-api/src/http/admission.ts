/** The checks every request passes before its body is read: method, API key, rate, media type, size. Pure. */
import type { ApiKeyCheck } from './api-keys.js';
import { RETRY_AFTER_S } from './bus-failure.js';
import { errorResult, fail, ok, type Check, type HttpResult } from './result.js';
import type { RateLimiter } from './rate-limit.js';
import type { Route } from './route.js';

/** The parts of a request the checks need, copied out of uWS's stack-allocated request. */
export interface RequestHead {
  /** Upper case (`GET`, `POST`). */
  readonly method: string;
  readonly authorization: string;
  readonly contentType: string;
  readonly contentLength: string;
}

export interface AdmissionDeps {
  readonly checkKey: ApiKeyCheck;
  readonly limiter: RateLimiter;
  readonly maxBodyBytes: number;
  /** Origins browser pages may call the `cors` routes from (HERALD_ALLOWED_ORIGINS); absent: any. */
  readonly originAllowed?: (origin: string) => boolean;
}

export type Admission = { readonly ok: true; readonly keyIndex: number } | { readonly ok: false; readonly result: HttpResult };

const JSON_MEDIA_TYPE = /^application\/json[ \t]*(?:;(.*))?$/i;
const CHARSET_PARAM = /^[ \t]*charset[ \t]*=[ \t]*"?([^";]*)"?[ \t]*$/i;

/** True for `application/json` with optional parameters; a `charset`, when given, must be UTF-8. */
export function isJsonContentType(contentType: string): boolean {
  if (contentType === 'application/json') return true; // what nearly every client sends
  const m = JSON_MEDIA_TYPE.exec(contentType.trim());
  if (!m) return false;
  for (const param of (m[1] ?? '').split(';')) {
    const cs = CHARSET_PARAM.exec(param);
    if (cs && !/^utf-?8$/i.test(cs[1] ?? '')) return false;
  }
  return true;
}

/** Admits or refuses a request for `route`, in the order 405, 401, 429, 415, 413. */
export function admit(head: RequestHead, route: Route, deps: AdmissionDeps): Admission {
  if (head.method !== route.method) {
    return { ok: false, result: errorResult('method_not_allowed', `use ${route.method} for ${route.path}`, { headers: [['allow', route.method]] }) };
  }
  if (route.open === true) return { ok: true, keyIndex: -1 };
  const keyIndex = deps.checkKey(head.authorization);
  if (keyIndex === undefined) {
    return { ok: false, result: errorResult('unauthorized', 'a valid API key is required: Authorization: Bearer <key>', { headers: [['www-authenticate', 'Bearer']] }) };
  }
  const waitMs = deps.limiter.take(keyIndex);
  if (waitMs > 0) {
    const retryAfter = String(Math.max(RETRY_AFTER_S, Math.ceil(waitMs / 1000)));
    return { ok: false, result: errorResult('rate_limited', 'too many requests for this API key; slow down', { headers: [['retry-after', retryAfter]] }) };
  }
  if (route.method === 'POST') {
    if (!isJsonContentType(head.contentType)) {
      return { ok: false, result: errorResult('unsupported_media_type', 'the body must be sent as Content-Type: application/json') };
    }
    // A declared length over the limit is refused before a single byte is read.
    const declared = head.contentLength === '' ? 0 : Number(head.contentLength);
    if (declared > deps.maxBodyBytes) return { ok: false, result: bodyTooLarge(deps.maxBodyBytes) };
  }
  return { ok: true, keyIndex };
}

/** 413 `body_too_large`; the connection is closed rather than reading the rest. */
export function bodyTooLarge(maxBodyBytes: number): HttpResult {
  return errorResult('body_too_large', `the body is larger than the limit of ${maxBodyBytes} bytes`, { close: true });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a body as strict UTF-8 JSON. */
export function parseJsonBody(body: Uint8Array): Check<unknown> {
  if (body.byteLength === 0) return fail('invalid_body', 'the body is empty: a JSON object is expected');
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return fail('invalid_body', 'the body is not valid UTF-8');
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return fail('invalid_body', 'the body is not valid JSON');
  }
}
