/** Validation of the admin routes' inputs: disconnect body, presence and history queries. Pure. */
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, type PresenceQuery } from '@herald/bus';
import { CloseCode, MAX_CLOSE_REASON_BYTES, isValidTopic, isValidUserId, parseChannel } from '@herald/protocol';
import { fail, ok, type Check } from '../http/result.js';
import { isObject, preview, unknownField } from '../http/input.js';

/**
 * Close codes a backend may ask for (docs/protocol.md#close-codes): the ones whose client reaction makes
 * sense for a deliberate disconnect. 1011/1012/1013/4008 describe server conditions and
 * would make clients reconnect at once, which a disconnect does not want.
 */
export const DISCONNECT_CODES: ReadonlySet<number> = new Set([
  CloseCode.Normal,
  CloseCode.PolicyViolation,
  CloseCode.TokenExpired,
  CloseCode.Forbidden,
  CloseCode.TooManyConnections,
  CloseCode.RateLimited,
]);

export interface DisconnectCommand {
  readonly user: string;
  readonly code: number;
  readonly reason: string;
}

export interface HistoryCommand {
  readonly channel: string;
  readonly since: number;
  readonly limit: number;
}

const DISCONNECT_FIELDS: ReadonlySet<string> = new Set(['user', 'code', 'reason']);

/** Validates `{"user":"42","code":4003,"reason":"..."}`; code defaults to 4003, reason to "". */
export function parseDisconnect(body: unknown): Check<DisconnectCommand> {
  if (!isObject(body)) return fail('invalid_body', 'the body must be a JSON object');
  const extra = unknownField(body, DISCONNECT_FIELDS);
  if (extra !== undefined) return fail('invalid_body', `unknown field ${preview(extra)}`);
  const user = body['user'];
  if (!isValidUserId(user)) return fail('invalid_target', `user ${preview(user)} is not a valid user id`);
  const code = body['code'] ?? CloseCode.Forbidden;
  if (typeof code !== 'number' || !DISCONNECT_CODES.has(code)) {
    return fail('invalid_body', `code must be one of ${[...DISCONNECT_CODES].join(', ')} (got ${preview(code)})`);
  }
  const reason = body['reason'] ?? '';
  // RFC 6455: a close frame's reason is at most 123 bytes of UTF-8.
  if (typeof reason !== 'string' || Buffer.byteLength(reason, 'utf8') > MAX_CLOSE_REASON_BYTES) {
    return fail('invalid_body', `reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
  }
  return ok({ user, code, reason });
}

/** Rejects repeated or unexpected query parameters, so `?user=a&user=b` is never half-read. */
function checkParams(query: URLSearchParams, allowed: ReadonlySet<string>): Check<void> {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!allowed.has(key)) return fail('invalid_query', `unknown query parameter ${preview(key)}`);
    if (seen.has(key)) return fail('invalid_query', `query parameter ${preview(key)} given twice`);
    seen.add(key);
  }
  return ok(undefined);
}

const PRESENCE_PARAMS: ReadonlySet<string> = new Set(['user', 'topic']);

/** Validates `?user=42` or `?topic=news` (exactly one). */
export function parsePresenceQuery(query: URLSearchParams): Check<PresenceQuery> {
  const params = checkParams(query, PRESENCE_PARAMS);
  if (!params.ok) return params;
  const user = query.get('user');
  const topic = query.get('topic');
  if ((user === null) === (topic === null)) return fail('invalid_query', 'exactly one of user, topic is required');
  if (user !== null) return isValidUserId(user) ? ok({ user }) : fail('invalid_query', `user ${preview(user)} is not a valid user id`);
  return isValidTopic(topic) ? ok({ topic }) : fail('invalid_query', `topic ${preview(topic)} is not a valid topic name`);
}

const HISTORY_PARAMS: ReadonlySet<string> = new Set(['ch', 'since', 'limit']);
const UINT = /^(0|[1-9][0-9]{0,15})$/;

function parseUint(query: URLSearchParams, name: string, fallback: number, min: number, max: number): Check<number> {
  const raw = query.get(name);
  if (raw === null) return ok(fallback);
  const n = UINT.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) return fail('invalid_query', `${name} must be an integer from ${min} to ${max} (got ${preview(raw)})`);
  return ok(n);
}

/** Validates `?ch=topic:news&since=120&limit=100` (since default 0, limit 1..1000, default 100). */
export function parseHistoryQuery(query: URLSearchParams): Check<HistoryCommand> {
  const params = checkParams(query, HISTORY_PARAMS);
  if (!params.ok) return params;
  const ch = query.get('ch');
  if (ch === null || parseChannel(ch) === undefined) {
    return fail('invalid_query', `ch must be a channel, topic:<name> or user:<id> (got ${preview(ch ?? undefined)})`);
  }
  const since = parseUint(query, 'since', 0, 0, Number.MAX_SAFE_INTEGER);
  if (!since.ok) return since;
  const limit = parseUint(query, 'limit', DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT);
  if (!limit.ok) return limit;
  return ok({ channel: ch, since: since.value, limit: limit.value });
}
