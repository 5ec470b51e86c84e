/**
 * CORS of the routes browser pages call (`Route.cors`: the Web Push key and registration,
 * docs/push.md#cors): an `Origin` allowed by HERALD_ALLOWED_ORIGINS gets `Access-Control-Allow-Origin`
 * on every answer and a preflight (`OPTIONS`) answered 204; another origin gets 403
 * `origin_not_allowed`, as the gateway answers it. A request without `Origin` is not a browser's
 * and passes untouched. The decision is `corsVerdict` of @herald/uws (shared with the gateway's
 * receipts route); this file holds this role's documented headers and maps it to an `HttpResult`.
 */
import { corsVerdict as decide, type CorsPolicy } from '@herald/uws';
import { errorResult, type HeaderPairs, type HttpResult } from './result.js';
import type { Route } from './route.js';

/** Request headers a page may send on these routes. */
const ALLOW_HEADERS = 'authorization, content-type, x-request-id, traceparent, tracestate';
/** Answer headers a page may read. */
const EXPOSE_HEADERS = 'x-request-id, retry-after';

/** What CORS makes of a request to a `cors` route: answered here, or go on with extra headers. */
export type CorsVerdict = { readonly answer: HttpResult } | { readonly headers: HeaderPairs | undefined };

export function corsVerdict(route: Route, method: string, origin: string, allowed: (origin: string) => boolean): CorsVerdict {
  const policy: CorsPolicy = { allowMethods: route.method, allowHeaders: ALLOW_HEADERS, exposeHeaders: EXPOSE_HEADERS, otherOrigins: 'refuse' };
  const v = decide(policy, method, origin, allowed);
  switch (v.kind) {
    case 'pass':
      return { headers: v.headers.length === 0 ? undefined : v.headers };
    case 'preflight':
      return { answer: { status: 204, body: undefined, headers: v.headers } };
    case 'refuse':
      return { answer: errorResult(v.code, v.message, { headers: v.headers }) };
  }
}
