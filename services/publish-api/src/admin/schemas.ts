/**
 * Inputs of the admin routes as zod schemas: the POST /v1/disconnect body and the
 * GET /v1/presence and /v1/history queries (one value per parameter). Validation reads them
 * (admin/validate.ts); an OpenAPI document can be produced from the same objects.
 */
import { z } from 'zod';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '@herald/bus';
import { CloseCode, MAX_CLOSE_REASON_BYTES, parseChannel } from '@herald/protocol';
import { TopicName, UserId } from '../fields.js';

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

/** `{"user":"42","code":4003,"reason":"..."}`; code defaults to 4003, reason to "" (null counts as absent). */
export const DisconnectBody = z.strictObject({
  user: UserId,
  code: z.number().refine((c) => DISCONNECT_CODES.has(c)).nullish().meta({ description: `One of ${[...DISCONNECT_CODES].join(', ')}; default 4003` }),
  // RFC 6455: a close frame's reason is at most 123 bytes of UTF-8.
  reason: z.string().refine((r) => Buffer.byteLength(r, 'utf8') <= MAX_CLOSE_REASON_BYTES).nullish()
    .meta({ description: `At most ${MAX_CLOSE_REASON_BYTES} bytes of UTF-8; default empty` }),
});

/** Default and largest `limit` of a member page. */
export const DEFAULT_MEMBERS_LIMIT = 100;
export const MAX_MEMBERS_LIMIT = 1000;

/**
 * `?user=42` or `?topic=news`: exactly one. With a topic, `members=true` adds the member list of a
 * presence topic (docs/publish-api.md#presence), sorted by user id, `limit` per page, the next
 * page after `cursor` (the `next` of the previous page).
 */
export const PresenceQuery = z.strictObject({
  user: UserId.optional(),
  topic: TopicName.optional(),
  members: z.enum(['true', 'false']).optional().meta({ description: 'true: also list the members (topic only)' }),
  limit: z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number).pipe(z.number().int().min(1).max(MAX_MEMBERS_LIMIT)).optional()
    .meta({ description: `Members per page, 1-${MAX_MEMBERS_LIMIT}, default ${DEFAULT_MEMBERS_LIMIT}` }),
  cursor: UserId.optional().meta({ description: 'The `next` of the previous page: members after this user id' }),
});

const UINT = /^(0|[1-9][0-9]{0,15})$/;

/** A query parameter holding a whole number from `min` to `max`. */
function uintParam(min: number, max: number) {
  return z.string().regex(UINT).transform(Number).pipe(z.number().int().min(min).max(max));
}

export const SINCE_RANGE = [0, Number.MAX_SAFE_INTEGER] as const;
export const LIMIT_RANGE = [1, MAX_HISTORY_LIMIT] as const;

/** `?ch=topic:news&since=120&limit=100` (since default 0, limit default DEFAULT_HISTORY_LIMIT). */
export const HistoryQuery = z.strictObject({
  ch: z.string().refine((c) => parseChannel(c) !== undefined).meta({ description: 'A channel: topic:<name> or user:<id>' }),
  since: uintParam(...SINCE_RANGE).default(0),
  limit: uintParam(...LIMIT_RANGE).default(DEFAULT_HISTORY_LIMIT),
});
