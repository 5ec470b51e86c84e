/** How a failed inbox store call is answered, shared by the inbox and push-subscription routes. */
import { InboxError } from '@herald/inbox';
import { RETRY_AFTER_S } from '../http/bus-failure.js';
import { errorResult, type HttpResult } from '../http/result.js';
import type { RequestContext } from '../http/route.js';

/** The answer to a failed store call: 503 when the store is unreachable, 400 for input it refused. */
export function inboxFailure(err: unknown, ctx: RequestContext): HttpResult {
  if (err instanceof InboxError && err.code === 'invalid') return errorResult('invalid_query', err.message);
  ctx.log.warn({ err }, 'inbox call failed');
  if (err instanceof InboxError) return errorResult('bus_unavailable', 'the inbox store is unavailable; try again', { headers: [['retry-after', String(RETRY_AFTER_S)]] });
  return errorResult('internal', 'internal error');
}
