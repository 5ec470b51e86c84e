/** Validation of the admin routes' inputs (disconnect body, presence and history queries) from their zod schemas (admin/schemas.ts). Pure. */
import type { z } from 'zod';
import type { PresenceQuery as Presence } from '@herald/bus';
import { CloseCode, MAX_CLOSE_REASON_BYTES } from '@herald/protocol';
import { isObject, preview, unknownFieldFailure } from '../http/input.js';
import { fail, ok, type Check } from '../http/result.js';
import { DEFAULT_MEMBERS_LIMIT, DISCONNECT_CODES, DisconnectBody, HistoryQuery, LIMIT_RANGE, MAX_MEMBERS_LIMIT, PresenceQuery, SINCE_RANGE } from './schemas.js';

export { DISCONNECT_CODES } from './schemas.js';

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

type Issue = z.core.$ZodIssue;

/** The first field, in `order`, with an issue. */
function firstIssueField(issues: readonly Issue[], order: readonly string[]): string | undefined {
  return order.find((f) => issues.some((i) => i.path[0] === f));
}

/** Validates `{"user":"42","code":4003,"reason":"..."}`; code defaults to 4003, reason to "". */
export function parseDisconnect(body: unknown): Check<DisconnectCommand> {
  if (!isObject(body)) return fail('invalid_body', 'the body must be a JSON object');
  const parsed = DisconnectBody.safeParse(body);
  if (parsed.success) return ok({ user: parsed.data.user, code: parsed.data.code ?? CloseCode.Forbidden, reason: parsed.data.reason ?? '' });
  const issues = parsed.error.issues;
  const unknown = unknownFieldFailure(issues);
  if (unknown !== undefined) return unknown;
  switch (firstIssueField(issues, ['user', 'code', 'reason'])) {
    case 'user':
      return fail('invalid_target', `user ${preview(body['user'])} is not a valid user id`);
    case 'code':
      return fail('invalid_body', `code must be one of ${[...DISCONNECT_CODES].join(', ')} (got ${preview(body['code'])})`);
    default:
      return fail('invalid_body', `reason must be a string of at most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8`);
  }
}

/**
 * One value per parameter, in one pass in query order: an unknown or repeated parameter is
 * refused, so `?user=a&user=b` is never half-read.
 */
function singleValues(query: URLSearchParams, allowed: readonly string[]): Check<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, value] of query) {
    if (!allowed.includes(key)) return fail('invalid_query', `unknown query parameter ${preview(key)}`);
    if (Object.hasOwn(out, key)) return fail('invalid_query', `query parameter ${preview(key)} given twice`);
    out[key] = value;
  }
  return ok(out);
}

/** A presence query; `members` set when the member list was asked for (topic only). */
export type PresenceCommand = Presence & { readonly members?: { readonly limit: number; readonly cursor?: string } };

/** Validates `?user=42` or `?topic=news` (exactly one), and for a topic `members=true&limit=&cursor=`. */
export function parsePresenceQuery(query: URLSearchParams): Check<PresenceCommand> {
  const values = singleValues(query, ['user', 'topic', 'members', 'limit', 'cursor']);
  if (!values.ok) return values;
  const parsed = PresenceQuery.safeParse(values.value);
  const { user, topic } = values.value;
  if ((user === undefined) === (topic === undefined)) return fail('invalid_query', 'exactly one of user, topic is required');
  if (parsed.success) {
    const d = parsed.data;
    const listed = d.members === 'true';
    if (!listed && (d.limit !== undefined || d.cursor !== undefined)) return fail('invalid_query', 'limit and cursor go with members=true');
    if (user !== undefined) return listed ? fail('invalid_query', 'members=true needs a topic') : ok({ user });
    const base = { topic: topic as string };
    return ok(listed ? { ...base, members: { limit: d.limit ?? DEFAULT_MEMBERS_LIMIT, ...(d.cursor === undefined ? {} : { cursor: d.cursor }) } } : base);
  }
  const field = firstIssueField(parsed.error.issues, ['user', 'topic', 'members', 'limit', 'cursor']);
  if (field === 'user') return fail('invalid_query', `user ${preview(user)} is not a valid user id`);
  if (field === 'topic') return fail('invalid_query', `topic ${preview(topic)} is not a valid topic name`);
  if (field === 'members') return fail('invalid_query', 'members must be true or false');
  if (field === 'limit') return fail('invalid_query', `limit must be a whole number from 1 to ${MAX_MEMBERS_LIMIT}`);
  return fail('invalid_query', 'cursor is not a valid user id');
}

/** Validates `?ch=topic:news&since=120&limit=100` (since default 0, limit 1..1000, default 100). */
export function parseHistoryQuery(query: URLSearchParams): Check<HistoryCommand> {
  const values = singleValues(query, ['ch', 'since', 'limit']);
  if (!values.ok) return values;
  const parsed = HistoryQuery.safeParse(values.value);
  if (parsed.success) return ok({ channel: parsed.data.ch, since: parsed.data.since, limit: parsed.data.limit });
  const v = values.value;
  switch (firstIssueField(parsed.error.issues, ['ch', 'since', 'limit'])) {
    case 'ch':
      return fail('invalid_query', `ch must be a channel, topic:<name> or user:<id> (got ${preview(v['ch'])})`);
    case 'since':
      return fail('invalid_query', `since must be an integer from ${SINCE_RANGE[0]} to ${SINCE_RANGE[1]} (got ${preview(v['since'])})`);
    default:
      return fail('invalid_query', `limit must be an integer from ${LIMIT_RANGE[0]} to ${LIMIT_RANGE[1]} (got ${preview(v['limit'])})`);
  }
}
