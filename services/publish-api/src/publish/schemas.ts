/**
 * Request bodies of POST /v1/publish and /v1/publish/batch as zod schemas: validation reads
 * them (publish/validate.ts), and an OpenAPI document can be produced from the same objects.
 * Built once per limits (config), never per request.
 */
import { z } from 'zod';
import { TopicName, UserId } from '../fields.js';
import { InboxField } from '../inbox/schemas.js';

/** Idempotency keys: 1 to 64 characters (docs/publish-api.md#limits). */
export const MAX_ID_CHARS = 64;
// Visible ASCII only (0x21-0x7E): the id travels as the `Nats-Msg-Id` header, where
// spaces could be trimmed and control characters would break the header.
export const ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

/** An idempotency key: a retry with the same key stores the message at most once. */
export const IdempotencyKey = z.string().regex(ID_PATTERN).meta({ description: `1 to ${MAX_ID_CHARS} visible ASCII characters (0x21-0x7E)` });

/** The target fields of a publish: exactly one is required. */
export const TARGET_FIELDS = ['topic', 'topics', 'user', 'users'] as const;
export type TargetField = (typeof TARGET_FIELDS)[number];

export interface PublishLimits {
  /** Largest `data`, in bytes of its JSON text. */
  readonly maxDataBytes: number;
  /** Most entries in `topics` / `users`. */
  readonly maxTargets: number;
}

export interface BatchLimits extends PublishLimits {
  readonly maxBatch: number;
}

/** `{"topic"|"topics"|"user"|"users": …, "data": any JSON, "id"?: key}`; the data size limit is checked on its JSON text. */
export function publishBodySchema(limits: PublishLimits) {
  return z.strictObject({
    topic: TopicName.optional(),
    topics: z.array(TopicName).min(1).max(limits.maxTargets).optional(),
    user: UserId.optional(),
    users: z.array(UserId).min(1).max(limits.maxTargets).optional(),
    data: z.unknown().meta({ description: `Any JSON value, null included; at most ${limits.maxDataBytes} bytes as JSON` }),
    id: IdempotencyKey.optional(),
    inbox: InboxField.optional(),
  });
}

/**
 * The batch envelope `{"messages":[…]}`: every entry is a publish body. Validation checks the
 * envelope with `batchEnvelopeSchema` and each entry with the publish schema, in order, so the
 * first bad entry is the one reported; `batchBodySchema` is the whole document for OpenAPI.
 */
export function batchEnvelopeSchema(limits: BatchLimits) {
  return z.strictObject({ messages: z.array(z.unknown()).min(1).max(limits.maxBatch) });
}

export function batchBodySchema(limits: BatchLimits) {
  return z.strictObject({ messages: z.array(publishBodySchema(limits)).min(1).max(limits.maxBatch) });
}
