/** Validation of publish and batch bodies (docs/publish-api.md#routes): pure functions, no I/O. */
import { isValidTopic, isValidUserId, topicChannel, userChannel } from '@herald/protocol';
import { isObject, preview, unknownField } from '../http/input.js';
import { fail, ok, type Check, type Failure } from '../http/result.js';

/** Idempotency keys: 1 to 64 characters (docs/publish-api.md#limits). */
export const MAX_ID_CHARS = 64;
// Visible ASCII only (0x21-0x7E): the id travels as the `Nats-Msg-Id` header, where
// spaces could be trimmed and control characters would break the header.
const ID_PATTERN = /^[\x21-\x7e]{1,64}$/;

export interface PublishLimits {
  /** Largest `data`, in bytes of its JSON text. */
  readonly maxDataBytes: number;
  /** Most entries in `topics` / `users`. */
  readonly maxTargets: number;
}

export interface BatchLimits extends PublishLimits {
  readonly maxBatch: number;
}

/** One validated publish: deduplicated channels, data as JSON text, optional id. */
export interface PublishCommand {
  readonly channels: readonly string[];
  readonly data: string;
  readonly id?: string;
}

const TARGET_FIELDS = ['topic', 'topics', 'user', 'users'] as const;
type TargetField = (typeof TARGET_FIELDS)[number];
const PUBLISH_FIELDS: ReadonlySet<string> = new Set([...TARGET_FIELDS, 'data', 'id']);

const TOPIC_RULE = '1 to 8 dot-separated segments of A-Z a-z 0-9 _ -, at most 200 characters';
const USER_RULE = '1 to 256 bytes of UTF-8 without control characters';

function checkOne(field: TargetField, value: unknown, where: string): Check<string> {
  if (field === 'topic' || field === 'topics') {
    return isValidTopic(value) ? ok(topicChannel(value)) : fail('invalid_target', `${where} ${preview(value)} is not a valid topic name (${TOPIC_RULE})`);
  }
  return isValidUserId(value) ? ok(userChannel(value)) : fail('invalid_target', `${where} ${preview(value)} is not a valid user id (${USER_RULE})`);
}

/** Validates the one target field of a publish and returns its deduplicated channels, in order. */
export function parseTargets(body: Record<string, unknown>, maxTargets: number): Check<readonly string[]> {
  const present = TARGET_FIELDS.filter((f) => Object.hasOwn(body, f));
  if (present.length !== 1) {
    return fail('invalid_body', `exactly one of topic, topics, user, users is required (got ${present.length === 0 ? 'none' : present.join(', ')})`);
  }
  const field = present[0] as TargetField;
  const value = body[field];
  if (field === 'topic' || field === 'user') {
    const one = checkOne(field, value, field);
    return one.ok ? ok([one.value]) : one;
  }
  if (!Array.isArray(value)) return fail('invalid_target', `${field} must be an array`);
  if (value.length === 0 || value.length > maxTargets) {
    return fail('invalid_target', `${field} must hold 1 to ${maxTargets} entries (got ${value.length})`);
  }
  const channels = new Set<string>();
  for (let i = 0; i < value.length; i++) {
    const one = checkOne(field, value[i], `${field}[${i}]`);
    if (!one.ok) return one;
    channels.add(one.value);
  }
  return ok([...channels]);
}

/** Validates an idempotency key (absent is fine). */
export function parseId(value: unknown): Check<string | undefined> {
  if (value === undefined) return ok(undefined);
  if (typeof value === 'string' && ID_PATTERN.test(value)) return ok(value);
  return fail('invalid_id', `id must be a string of 1 to ${MAX_ID_CHARS} visible ASCII characters (0x21-0x7E), got ${preview(value)}`);
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
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxDataBytes) return fail('data_too_large', `data is ${bytes} bytes as JSON, more than the limit of ${maxDataBytes}`);
  return ok(text);
}

/** Validates one publish body (`POST /v1/publish`, or one entry of a batch). */
export function parsePublish(body: unknown, limits: PublishLimits): Check<PublishCommand> {
  if (!isObject(body)) return fail('invalid_body', 'the body must be a JSON object');
  const extra = unknownField(body, PUBLISH_FIELDS);
  if (extra !== undefined) return fail('invalid_body', `unknown field ${preview(extra)}`);
  const channels = parseTargets(body, limits.maxTargets);
  if (!channels.ok) return channels;
  const id = parseId(body['id']);
  if (!id.ok) return id;
  const data = encodeData(body, limits.maxDataBytes);
  if (!data.ok) return data;
  return ok(id.value === undefined ? { channels: channels.value, data: data.value } : { channels: channels.value, data: data.value, id: id.value });
}

const BATCH_FIELDS: ReadonlySet<string> = new Set(['messages']);

/**
 * Validates a batch body `{"messages":[...]}`. Every message is checked before anything
 * is published; the first bad one fails the whole batch, with its index.
 */
export function parseBatch(body: unknown, limits: BatchLimits): Check<readonly PublishCommand[]> {
  if (!isObject(body)) return fail('invalid_body', 'the body must be a JSON object');
  const extra = unknownField(body, BATCH_FIELDS);
  if (extra !== undefined) return fail('invalid_body', `unknown field ${preview(extra)}`);
  const messages = body['messages'];
  if (!Array.isArray(messages)) return fail('invalid_body', 'messages must be an array');
  if (messages.length === 0 || messages.length > limits.maxBatch) {
    return fail('invalid_body', `messages must hold 1 to ${limits.maxBatch} entries (got ${messages.length})`);
  }
  const commands: PublishCommand[] = [];
  for (let i = 0; i < messages.length; i++) {
    const one = parsePublish(messages[i], limits);
    if (!one.ok) return { ...one, message: `messages[${i}]: ${one.message}`, index: i } satisfies Failure;
    commands.push(one.value);
  }
  return ok(commands);
}
