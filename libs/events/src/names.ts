/**
 * Every NATS name the events feature uses, derived from the subject prefix (HERALD_NATS_PREFIX),
 * so two installs on one NATS cluster never share a bucket, stream, consumer or subject.
 * @module
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SUBJECT_PREFIX, encodeToken, SUBJECT_PREFIX_PATTERN } from '@herald/bus';
import type { AnyEvent } from './event.js';

export interface EventNames {
  readonly prefix: string;
  /** JetStream KV bucket of presence state (users, topics, node heartbeats). */
  readonly presenceBucket: string;
  /** Stream of events: holds {@link EventNames.eventsWildcard}. */
  readonly eventsStream: string;
  /** `<prefix>.events.>` */
  readonly eventsWildcard: string;
  /** Stream of webhook deliveries given up on: holds {@link EventNames.deadWildcard}. */
  readonly deadStream: string;
  /** `<prefix>.events-dead.>` (not under `<prefix>.events.>`: consumers of events never see them). */
  readonly deadWildcard: string;
  /** Subject of one event: `<prefix>.events.<type>.<subject key>`. */
  subjectOf(event: AnyEvent): string;
  /** Dead-letter subject of a webhook target. */
  deadSubject(targetId: string): string;
  /** Durable consumer name of a webhook target. */
  webhookConsumer(targetId: string): string;
}

/**
 * A prefix as one name token: verbatim when it has no dot; else dots become `_` and a short hash
 * of the prefix follows, so `a.b` and `a_b` still get distinct names.
 */
export function prefixToken(prefix: string): string {
  if (!prefix.includes('.')) return prefix;
  const hash = createHash('sha256').update(prefix).digest('hex').slice(0, 8);
  return `${prefix.replaceAll('.', '_')}_${hash}`;
}

export function eventNames(prefix: string = DEFAULT_SUBJECT_PREFIX): EventNames {
  if (!SUBJECT_PREFIX_PATTERN.test(prefix)) throw new Error(`invalid subject prefix ${JSON.stringify(prefix.slice(0, 100))}`);
  const token = prefixToken(prefix);
  return {
    prefix,
    presenceBucket: `${token}_presence`,
    eventsStream: `${token}_events`,
    eventsWildcard: `${prefix}.events.>`,
    deadStream: `${token}_events_dead`,
    deadWildcard: `${prefix}.events-dead.>`,
    subjectOf: (event) => `${prefix}.events.${event.type}.${subjectKey(event)}`,
    deadSubject: (targetId) => `${prefix}.events-dead.${targetId}`,
    webhookConsumer: (targetId) => `webhook_${targetId}`,
  };
}

/**
 * The last token(s) of an event's subject: the user id as base64url (one token, never a
 * wildcard) or the topic name (already dot-separated NATS tokens). Every event of one user
 * (or topic) lands on subjects ending in the same key, so a backend can filter on it.
 */
function subjectKey(event: AnyEvent): string {
  switch (event.type) {
    case 'topic.occupied':
    case 'topic.vacated':
      return event.data.topic;
    default:
      return encodeToken(event.data.user);
  }
}

/** The ordering key of an event: events with one key are delivered to a webhook in order. */
export function orderingKey(event: AnyEvent): string {
  switch (event.type) {
    case 'topic.occupied':
    case 'topic.vacated':
      return 't:' + event.data.topic;
    default:
      return 'u:' + event.data.user;
  }
}
