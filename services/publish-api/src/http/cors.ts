/**
 * CORS of the routes browser pages call (`Route.cors`: the Web Push key and registration,
 * docs/push.md): an `Origin` allowed by HERALD_ALLOWED_ORIGINS gets `Access-Control-Allow-Origin`
 * on every answer and a preflight (`OPTIONS`) answered 204; another origin gets 403
 * `origin_not_allowed`, as the gateway answers it. A request without `Origin` is not a browser's
 * and passes untouched. These routes authenticate with a bearer token, never a cookie, so no
 * credentials are allowed.
 */
import { errorResult, type HeaderPairs, type HttpResult } from './result.js';
import type { Route } from './route.js';

/** Request headers a page may send on these routes. */
const ALLOW_HEADERS = 'authorization, content-type, x-request-id, traceparent, tracestate';
/** Answer headers a page may read. */
const EXPOSE_HEADERS = 'x-request-id, retry-after';
/** Seconds a browser may cache a preflight. */
const PREFLIGHT_MAX_AGE_S = '600';
const VARY: HeaderPairs = [['vary', 'origin']];

/** What CORS makes of a request to a `cors` route: answered here, or go on with extra headers. */
export type CorsVerdict = { readonly answer: HttpResult } | { readonly headers: HeaderPairs | undefined };

export function corsVerdict(route: Route, method: string, origin: string, allowed: (origin: string) => boolean): CorsVerdict {
  if (origin.length === 0) return { headers: method === 'OPTIONS' ? undefined : VARY };
  if (!allowed(origin)) return { answer: errorResult('origin_not_allowed', 'origin not allowed', { headers: VARY }) };
  const headers: HeaderPairs = [['access-control-allow-origin', origin], ['access-control-expose-headers', EXPOSE_HEADERS], ['vary', 'origin']];
  if (method !== 'OPTIONS') return { headers };
  return {
    answer: {
      status: 204,
      body: undefined,
      headers: [...headers, ['access-control-allow-methods', route.method], ['access-control-allow-headers', ALLOW_HEADERS], ['access-control-max-age', PREFLIGHT_MAX_AGE_S]],
    },
  };
}
