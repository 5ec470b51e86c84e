/**
 * CORS of the HTTP routes browser pages call from another origin: the gateway's
 * `POST /v1/inbox/receipts` (docs/protocol.md#inbox) and the publish API's Web Push routes
 * (docs/push.md#cors). One pure decision, so the two roles cannot drift apart; each service
 * writes the verdict with its own HTTP layer. Which origins are allowed is `originAllowList`
 * (HERALD_ALLOWED_ORIGINS). The routes authenticate with a bearer token, never a cookie, so
 * credentials are never allowed.
 * @module
 */
import type { HeaderList } from './http.js';

/** Seconds a browser may cache a preflight (both roles). */
export const CORS_PREFLIGHT_MAX_AGE_S = 600;

/** What a route answers to browsers; the parts that differ between routes (their documented answers). */
export interface CorsPolicy {
  /** `Access-Control-Allow-Methods` of the preflight, e.g. `POST`. */
  readonly allowMethods: string;
  /** `Access-Control-Allow-Headers` of the preflight: the request headers a page may send. */
  readonly allowHeaders: string;
  /** `Access-Control-Expose-Headers` on every answer to an allowed origin: the answer headers a page may read; absent: none sent. */
  readonly exposeHeaders?: string;
  /**
   * A request whose Origin the allow-list refuses:
   * - `refuse`: answered `403 origin_not_allowed` (as the gateway's upgrade), and every answer of
   *   the route carries `Vary: Origin` (a request without Origin too: its answer differs from a
   *   browser's);
   * - `ignore`: answered as if it had no Origin; CORS headers (`Vary` included) are only added for
   *   an allowed origin, so the browser keeps the answer from the page (for a route whose
   *   documented errors have no 403).
   */
  readonly otherOrigins: 'refuse' | 'ignore';
}

/**
 * The decision for one request:
 * - `pass`: handle the request, adding `headers` (may be empty) to every answer, refusals included;
 * - `preflight`: answer `204` without a body, with `headers`;
 * - `refuse`: answer `403` `origin_not_allowed` (`code`, `message`) with `headers`.
 */
export type CorsVerdict =
  | { readonly kind: 'pass'; readonly headers: HeaderList }
  | { readonly kind: 'preflight'; readonly headers: HeaderList }
  | { readonly kind: 'refuse'; readonly headers: HeaderList; readonly code: 'origin_not_allowed'; readonly message: string };

const NONE: HeaderList = [];
const VARY: HeaderList = [['vary', 'origin']];
const MAX_AGE = String(CORS_PREFLIGHT_MAX_AGE_S);
const REFUSE: CorsVerdict = { kind: 'refuse', headers: VARY, code: 'origin_not_allowed', message: 'origin not allowed' };

/**
 * CORS of one request to a route that answers it. `method` is the request's, upper case;
 * `origin` its `Origin` header (`''` when absent: not a browser, passes untouched); `allowed` the
 * allow-list check. An `OPTIONS` is a preflight only with an allowed Origin; otherwise it
 * passes without CORS headers (the route answers it as it answers any OPTIONS).
 */
export function corsVerdict(policy: CorsPolicy, method: string, origin: string, allowed: (origin: string) => boolean): CorsVerdict {
  const preflight = method === 'OPTIONS';
  if (origin.length === 0) return { kind: 'pass', headers: preflight || policy.otherOrigins === 'ignore' ? NONE : VARY };
  if (!allowed(origin)) return policy.otherOrigins === 'refuse' ? REFUSE : { kind: 'pass', headers: NONE };
  const headers: [string, string][] = [['access-control-allow-origin', origin]];
  if (policy.exposeHeaders !== undefined) headers.push(['access-control-expose-headers', policy.exposeHeaders]);
  headers.push(['vary', 'origin']);
  if (!preflight) return { kind: 'pass', headers };
  headers.push(['access-control-allow-methods', policy.allowMethods], ['access-control-allow-headers', policy.allowHeaders], ['access-control-max-age', MAX_AGE]);
  return { kind: 'preflight', headers };
}
