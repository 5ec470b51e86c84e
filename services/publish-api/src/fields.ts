/** Zod schemas of the wire fields the routes share (topic names, user ids), with the rule each error message quotes. */
import { z } from 'zod';
import { MAX_TOPIC_CHARS, isValidTopic, isValidUserId } from '@herald/protocol';

export const TOPIC_RULE = '1 to 8 dot-separated segments of A-Z a-z 0-9 _ -, at most 200 characters';
export const USER_RULE = '1 to 256 bytes of UTF-8 without control characters';

/**
 * The topic grammar as a JSON Schema `pattern`, for the OpenAPI document only: validation runs
 * isValidTopic (a unit test keeps the two in agreement).
 */
export const TOPIC_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+){0,7}$';

/** A topic name (docs/protocol.md#words). */
export const TopicName = z.string().max(MAX_TOPIC_CHARS).refine(isValidTopic).meta({ description: `Topic name: ${TOPIC_RULE}`, pattern: TOPIC_PATTERN });
/** A user id: the JWT `sub`. */
export const UserId = z.string().refine(isValidUserId).meta({ description: `User id: ${USER_RULE}` });
