/**
 * The inbox's request and answer schemas (docs/publish-api.md#inbox): the `inbox` field of a
 * publish, the query of `GET /v1/users/{id}/inbox`, and the answers for the OpenAPI document.
 */
import { z } from 'zod';
import { MAX_PAGE } from '@herald/inbox';

/** Longest per-message TTL a publish may ask for, s (a year); the store cuts it to HERALD_INBOX_TTL_MS. */
export const MAX_INBOX_TTL_S = 366 * 86_400;

/** `inbox: true` or `inbox: {"ttl": seconds}`. */
export const InboxField = z
  .union([z.literal(true), z.strictObject({ ttl: z.number().int().min(1).max(MAX_INBOX_TTL_S).optional() })])
  .meta({ description: 'Keep the message in each target user\'s inbox until read (users only). `ttl`: seconds, cut to HERALD_INBOX_TTL_MS' });

/** What a validated `inbox` field becomes. */
export interface InboxOption {
  readonly ttlMs?: number;
}

export function inboxOptionOf(value: true | { ttl?: number | undefined }): InboxOption {
  return value === true || value.ttl === undefined ? {} : { ttlMs: value.ttl * 1000 };
}

const Seq = z.number().int().min(0);

export const InboxListQuery = z.strictObject({
  after: z.string().regex(/^\d{1,16}$/).optional().meta({ description: 'Only messages with a greater inbox seq (default 0)' }),
  limit: z.string().regex(/^\d{1,4}$/).optional().meta({ description: `1 to ${MAX_PAGE} (default 100)` }),
  state: z.enum(['pending', 'delivered', 'read']).optional(),
});

const InboxEntry = z.strictObject({
  seq: Seq, id: z.string(), ts: z.number().int(), exp: z.number().int().optional(), state: z.enum(['pending', 'delivered', 'read']), data: z.unknown(),
});
export const InboxListAnswer = z.strictObject({ user: z.string(), delivered: Seq, read: Seq, messages: z.array(InboxEntry), next: Seq.optional() });
export const InboxDeleteAnswer = z.strictObject({ deleted: z.literal(true) });
export const PushSubscriptionBody = z.strictObject({
  endpoint: z.string(),
  keys: z.strictObject({ p256dh: z.string(), auth: z.string() }),
  expirationTime: z.number().nullable().optional(),
});
export const PushSubscriptionAnswer = z.strictObject({ id: z.string() });
export const VapidKeyAnswer = z.strictObject({ publicKey: z.string() });
