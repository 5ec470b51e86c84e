/** `POST /v1/inbox/receipts` (docs/protocol.md#inbox): receipts of SSE clients, which cannot send frames. */
import type { TokenVerifier } from '@herald/auth';
import { validateClientFrame } from '@herald/protocol';
import { corsVerdict, guardResponse, readBody, writeError, type CorsPolicy, type HttpRequest, type HttpResponse } from '@herald/uws';
import { authRefusal } from '../conn/refusal.js';
import { pickToken } from '../conn/token.js';
import type { Receipts } from './receipts.js';

export const RECEIPTS_PATH = '/v1/inbox/receipts';
/** A body with 1,000 seqs of 16 digits fits. */
const MAX_BODY_BYTES = 32 * 1024;

export interface ReceiptRouteDeps {
  readonly verifier: TokenVerifier;
  readonly receipts: Receipts;
  /** Origin allowed (HERALD_ALLOWED_ORIGINS): CORS headers are added for it. */
  readonly originAllowed: (origin: string) => boolean;
}

/**
 * CORS (docs/protocol.md#inbox): headers and a preflight for an allowed origin only. Another
 * origin is answered as a request without Origin, without CORS headers (the browser keeps the
 * answer from the page): the route's documented errors have no 403. `Retry-After` is exposed so
 * a page can read when to send a 429/503'd receipt again.
 */
const CORS: CorsPolicy = { allowMethods: 'POST', allowHeaders: 'authorization, content-type', exposeHeaders: 'retry-after', otherOrigins: 'ignore' };

export function createReceiptRoutes(deps: ReceiptRouteDeps): {
  post: (res: HttpResponse, req: HttpRequest) => void;
  options: (res: HttpResponse, req: HttpRequest) => void;
} {
  return {
    options: (res, req) => {
      const v = corsVerdict(CORS, 'OPTIONS', req.getHeader('origin'), deps.originAllowed);
      // Not a preflight of an allowed origin: 204 without CORS headers all the same.
      const headers = v.kind === 'preflight' ? v.headers : [];
      res.cork(() => {
        res.writeStatus('204 No Content');
        for (const [k, h] of headers) res.writeHeader(k, h);
        res.end();
      });
    },
    post: (res, req) => {
      // the policy ignores other origins: the verdict is always `pass`, with or without CORS headers
      const headers = corsVerdict(CORS, 'POST', req.getHeader('origin'), deps.originAllowed).headers;
      const jwt = pickToken({ protocol: '', authorization: req.getHeader('authorization'), query: '' });
      const guard = guardResponse(res);
      void (async () => {
        const body = await readBody(res, guard, MAX_BODY_BYTES).catch(() => undefined);
        if (body === undefined) return writeError(res, guard, 400, 'invalid_body', `body missing or larger than ${MAX_BODY_BYTES} bytes`, headers);
        if (jwt === undefined) return writeError(res, guard, 401, 'token_missing', 'token missing', headers);
        let user: string;
        try {
          user = (await deps.verifier.verify(jwt)).sub;
        } catch (err) {
          const r = authRefusal(err);
          return writeError(res, guard, r.status, r.code, r.message, headers);
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return writeError(res, guard, 400, 'invalid_body', 'body is not JSON', headers);
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return writeError(res, guard, 400, 'invalid_body', 'body must be a JSON object', headers);
        const v = validateClientFrame({ ...(parsed as Record<string, unknown>), op: 'receipt', id: 0 });
        if (!v.ok) return writeError(res, guard, 400, 'invalid_body', v.message, headers);
        if (v.frame.op !== 'receipt') return writeError(res, guard, 400, 'invalid_body', 'not a receipt', headers);
        if (!deps.receipts.takeHttp(user)) return writeError(res, guard, 429, 'rate_limited', 'too many receipts', [...headers, ['retry-after', '1']]);
        const out = await deps.receipts.apply(user, v.frame);
        if (out === 'invalid') return writeError(res, guard, 400, 'invalid_body', 'invalid receipt', headers);
        if (out === 'unavailable') return writeError(res, guard, 503, 'bus_unavailable', 'inbox store unavailable; send it again later', [...headers, ['retry-after', '1']]);
        if (guard.aborted) return;
        res.cork(() => {
          res.writeStatus('204 No Content');
          for (const [k, h] of headers) res.writeHeader(k, h);
          res.end();
        });
      })();
    },
  };
}
