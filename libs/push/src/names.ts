/**
 * The NATS names of Web Push, derived from the subject prefix (HERALD_NATS_PREFIX, see
 * @herald/bus subjects.ts) so that two installs sharing one NATS cluster never share a bucket.
 * @module
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SUBJECT_PREFIX, encodeToken, SUBJECT_PREFIX_PATTERN } from '@herald/bus';

export interface PushNames {
  readonly prefix: string;
  /** KV bucket of subscriptions: one entry per user. */
  readonly subscriptionsBucket: string;
  /** KV bucket of send claims: one entry per message id. */
  readonly claimsBucket: string;
}

/**
 * A prefix as one bucket-name token: verbatim without dots; else dots become `_` and a short
 * hash follows, so `a.b` and `a_b` still get distinct buckets (same rule as @herald/events).
 */
export function prefixToken(prefix: string): string {
  if (!prefix.includes('.')) return prefix;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 8);
  return `${prefix.replaceAll('.', '_')}_${hash}`;
}

export function pushNames(prefix: string = DEFAULT_SUBJECT_PREFIX): PushNames {
  if (!SUBJECT_PREFIX_PATTERN.test(prefix)) throw new TypeError(`invalid subject prefix ${JSON.stringify(prefix.slice(0, 100))}`);
  const token = prefixToken(prefix);
  return { prefix, subscriptionsBucket: `${token}_push_subs`, claimsBucket: `${token}_push_claims` };
}

/** KV key of a user id (`u` subscriptions, `r` rate) or message id (`m`): base64url (one token of `[A-Za-z0-9_-]`, never a wildcard). */
export function keyOf(kind: 'u' | 'm' | 'r', id: string): string {
  return `${kind}.${encodeToken(id)}`;
}
