/** Validation of publish and batch bodies (docs/publish-api.md#routes) from their zod schemas (publish/schemas.ts): pure, no I/O. */
import type { z } from 'zod';
import { MAX_TOPIC_CHARS, isValidTopic, isValidUserId, topicChannel, userChannel } from '@herald/protocol';
import { isObject, preview, unknownFieldFailure } from '../http/input.js';
import { fail, ok, type Check, type Failure } from '../http/result.js';
import { TOPIC_RULE, USER_RULE } from '../fields.js';
import { inboxOptionOf, type InboxOption } from '../inbox/schemas.js';
import {
  ID_PATTERN, IdempotencyKey, MAX_ID_CHARS, TARGET_FIELDS, batchEnvelopeSchema, publishBodySchema, type BatchLimits, type PublishLimits, type TargetField,
} from './schemas.js';

export { MAX_ID_CHARS } from './schemas.js';
export type { BatchLimits, PublishLimits } from './schemas.js';

/** One validated publish: deduplicated channels, data as JSON text, optional id. */
export interface PublishCommand {
  readonly channels: readonly string[];
  readonly data: string;
  readonly id?: string;
  /** Set: store in each user's inbox instead of publishing to `user:` channels (docs/inbox.md). */
  readonly inbox?: InboxOption;
}

type Issue = z.core.$ZodIssue;
type PublishBody = z.infer<ReturnType<typeof publishBodySchema>>;

interface Compiled {
  readonly publish: ReturnType<typeof publishBodySchema>;
  readonly envelope: ReturnType<typeof batchEnvelopeSchema>;
}

// Schemas are built once per limits object (the config's), not per request.
const compiled = new WeakMap<PublishLimits, Compiled>();

function schemasOf(limits: PublishLimits): Compiled {
  let c = compiled.get(limits);
  if (c === undefined) {
    const batch: BatchLimits = { maxBatch: 1, ...limits }; // a BatchLimits object brings its own
    c = { publish: publishBodySchema(limits), envelope: batchEnvelopeSchema(batch) };
    compiled.set(limits, c);
  }
  return c;
}

const NOT_OBJECT = fail('invalid_body', 'the body must be a JSON object');

/** Exactly one target field, or the failure naming what was given. */
function targetField(body: Record<string, unknown>): TargetField | Failure {
  const present = TARGET_FIELDS.filter((f) => Object.hasOwn(body, f));
  if (present.length === 1) return present[0] as TargetField;
  return fail('invalid_body', `exactly one of topic, topics, user, users is required (got ${present.length === 0 ? 'none' : present.join(', ')})`);
}

/** An issue of the target field, worded as the contract has it: the array's own issues before its entries'. */
function targetFailure(field: TargetField, body: Record<string, unknown>, issues: readonly Issue[], maxTargets: number): Failure | undefined {
  const mine = issues.filter((i) => i.path[0] === field);
  if (mine.length === 0) return undefined;
  const value = body[field];
  const rule = field === 'topic' || field === 'topics' ? `a valid topic name (${TOPIC_RULE})` : `a valid user id (${USER_RULE})`;
  if (field === 'topic' || field === 'user') return fail('invalid_target', `${field} ${preview(value)} is not ${rule}`);
  if (!Array.isArray(value)) return fail('invalid_target', `${field} must be an array`);
  if (value.length === 0 || value.length > maxTargets) return fail('invalid_target', `${field} must hold 1 to ${maxTargets} entries (got ${value.length})`);
  const index = Math.min(...mine.map((i) => (typeof i.path[1] === 'number' ? i.path[1] : Number.MAX_SAFE_INTEGER)));
  return fail('invalid_target', `${field}[${index}] ${preview(value[index])} is not ${rule}`);
}

/** The failure for a body the schema refused, in the contract's order: unknown field, targets, id, data. */
function explain(body: Record<string, unknown>, issues: readonly Issue[], maxTargets: number): Failure {
  const unknown = unknownFieldFailure(issues);
  if (unknown !== undefined) return unknown;
  const field = targetField(body);
  if (typeof field !== 'string') return field;
  const target = targetFailure(field, body, issues, maxTargets);
  if (target !== undefined) return target;
  if (issues.some((i) => i.path[0] === 'id')) return badId(body['id']);
  if (issues.some((i) => i.path[0] === 'data')) return fail('invalid_body', 'data is required (any JSON value, null included)');
  if (issues.some((i) => i.path[0] === 'inbox')) return fail('invalid_body', 'inbox must be true or {"ttl": seconds (a positive integer)}');
  // Not reached: every field of the schema is covered above.
  return fail('invalid_body', issues[0]?.message ?? 'invalid body');
}

function badId(value: unknown): Failure {
  return fail('invalid_id', `id must be a string of 1 to ${MAX_ID_CHARS} visible ASCII characters (0x21-0x7E), got ${preview(value)}`);
}

/** The deduplicated channels of the one target field, in order. */
function channelsOf(body: PublishBody, field: TargetField): readonly string[] {
  switch (field) {
    case 'topic':
      return [topicChannel(body.topic as string)];
    case 'user':
      return [userChannel(body.user as string)];
    case 'topics':
      return [...new Set((body.topics as string[]).map(topicChannel))];
    case 'users':
      return [...new Set((body.users as string[]).map(userChannel))];
  }
}

/** Validates an idempotency key (absent is fine). */
export function parseId(value: unknown): Check<string | undefined> {
  if (value === undefined) return ok(undefined);
  return IdempotencyKey.safeParse(value).success ? ok(value as string) : badId(value);
}

/** Encodes `data` as JSON text and checks its size. */
export function encodeData(body: Record<string, unknown>, maxDataBytes: number): Check<string> {
  if (!Object.hasOwn(body, 'data')) return fail('invalid_body', 'data is required (any JSON value, null included)');
  let text: string;
  try {
    text = JSON.stringify(body['data']);
  } catch {
    // A 1 MiB body can nest arrays ~500k deep: JSON.parse takes it, JSON.stringify
    // throws RangeError (stack). Refuse it instead of failing with a 500.
    return fail('invalid_data', 'data cannot be encoded as JSON (nested too deeply)');
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short data (nearly all of it) needs no byte count.
  if (text.length * 3 <= maxDataBytes) return ok(text);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxDataBytes) return fail('data_too_large', `data is ${bytes} bytes as JSON, more than the limit of ${maxDataBytes}`);
  return ok(text);
}

/**
 * The common bodies, `{"user"|"topic": …, "data": …, "id"?: …}` with valid values, without the
 * schema: the same checks (isValidUserId; the topic's length and isValidTopic; ID_PATTERN) and
 * the same command as the schema path. Anything else (another field, an invalid value, no data)
 * answers undefined and takes the schema path, which words every failure.
 */
function commonPublish(body: Record<string, unknown>, limits: PublishLimits): Check<PublishCommand> | undefined {
  let field: 'user' | 'topic' | undefined;
  let hasData = false;
  let hasId = false;
  for (const k of Object.keys(body)) {
    if (k === 'user' || k === 'topic') {
      if (field !== undefined) return undefined;
      field = k;
    } else if (k === 'data') hasData = true;
    else if (k === 'id') hasId = true;
    else return undefined;
  }
  if (field === undefined || !hasData) return undefined;
  const target = body[field];
  if (typeof target !== 'string') return undefined;
  if (field === 'user' ? !isValidUserId(target) : target.length > MAX_TOPIC_CHARS || !isValidTopic(target)) return undefined;
  const id = hasId ? body['id'] : undefined;
  if (hasId && (typeof id !== 'string' || !ID_PATTERN.test(id))) return undefined;
  const data = encodeData(body, limits.maxDataBytes);
  if (!data.ok) return data;
  const channels = [field === 'user' ? userChannel(target) : topicChannel(target)];
  return ok(id === undefined ? { channels, data: data.value } : { channels, data: data.value, id: id as string });
}

/** Validates one publish body (`POST /v1/publish`, or one entry of a batch). */
export function parsePublish(body: unknown, limits: PublishLimits): Check<PublishCommand> {
  if (!isObject(body)) return NOT_OBJECT;
  return commonPublish(body, limits) ?? parseWithSchema(body, limits);
}

/** parsePublish through the zod schema only (exported for the test that both paths agree). */
export function parseWithSchema(body: Record<string, unknown>, limits: PublishLimits): Check<PublishCommand> {
  const parsed = schemasOf(limits).publish.safeParse(body);
  if (!parsed.success) return explain(body, parsed.error.issues, limits.maxTargets);
  const field = targetField(body);
  if (typeof field !== 'string') return field;
  const data = encodeData(body, limits.maxDataBytes);
  if (!data.ok) return data;
  const channels = channelsOf(parsed.data, field);
  const id = parsed.data.id;
  const base = id === undefined ? { channels, data: data.value } : { channels, data: data.value, id };
  if (parsed.data.inbox === undefined) return ok(base);
  if (field === 'topic' || field === 'topics') return fail('invalid_target', 'inbox needs user or users: a topic has no inbox');
  return ok({ ...base, inbox: inboxOptionOf(parsed.data.inbox) });
}

/**
 * Validates a batch body `{"messages":[...]}`. Every message is checked before anything
 * is published; the first bad one fails the whole batch, with its index.
 */
export function parseBatch(body: unknown, limits: BatchLimits): Check<readonly PublishCommand[]> {
  if (!isObject(body)) return NOT_OBJECT;
  const envelope = schemasOf(limits).envelope.safeParse(body);
  if (!envelope.success) return batchFailure(body, envelope.error.issues, limits.maxBatch);
  const messages = envelope.data.messages;
  const commands: PublishCommand[] = [];
  for (let i = 0; i < messages.length; i++) {
    const one = parsePublish(messages[i], limits);
    if (!one.ok) return { ...one, message: `messages[${i}]: ${one.message}`, index: i } satisfies Failure;
    commands.push(one.value);
  }
  return ok(commands);
}

function batchFailure(body: Record<string, unknown>, issues: readonly Issue[], maxBatch: number): Failure {
  const unknown = unknownFieldFailure(issues);
  if (unknown !== undefined) return unknown;
  const messages = body['messages'];
  if (!Array.isArray(messages)) return fail('invalid_body', 'messages must be an array');
  return fail('invalid_body', `messages must hold 1 to ${maxBatch} entries (got ${messages.length})`);
}
