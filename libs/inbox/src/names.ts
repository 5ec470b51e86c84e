/**
 * The NATS names of the inbox, derived from the subject prefix (HERALD_NATS_PREFIX) so that two
 * installs on one NATS cluster never share a stream, bucket or subject (docs/inbox.md#storage-on-nats).
 * @module
 */
import { DEFAULT_SUBJECT_PREFIX, encodeToken, SUBJECT_PREFIX_PATTERN } from '@herald/bus';
import { prefixToken } from '@herald/events';

export interface InboxNames {
  readonly prefix: string;
  /** Stream holding every inbox: `<t>_inbox`. */
  readonly stream: string;
  /** `<p>.inbox.>` */
  readonly storedWildcard: string;
  /** `<p>.inbox-live.>`: the stream's RePublish destination. */
  readonly liveWildcard: string;
  /** KV bucket of receipt state: `<t>_inbox_state`. */
  readonly stateBucket: string;
  /** `<p>.inbox.<base64url(user)>` */
  stored(user: string): string;
  /** `<p>.inbox-live.<base64url(user)>` */
  live(user: string): string;
  /** `<p>.inbox-state.<base64url(user)>`: committed receipt changes (core NATS). */
  state(user: string): string;
  /** KV key of a user's receipt state. */
  stateKey(user: string): string;
}

export function inboxNames(prefix: string = DEFAULT_SUBJECT_PREFIX): InboxNames {
  if (!SUBJECT_PREFIX_PATTERN.test(prefix)) throw new TypeError(`invalid subject prefix ${JSON.stringify(prefix.slice(0, 100))}`);
  const token = prefixToken(prefix);
  return {
    prefix,
    stream: `${token}_inbox`,
    storedWildcard: `${prefix}.inbox.>`,
    liveWildcard: `${prefix}.inbox-live.>`,
    stateBucket: `${token}_inbox_state`,
    stored: (user) => `${prefix}.inbox.${encodeToken(user)}`,
    live: (user) => `${prefix}.inbox-live.${encodeToken(user)}`,
    state: (user) => `${prefix}.inbox-state.${encodeToken(user)}`,
    stateKey: (user) => `u.${encodeToken(user)}`,
  };
}

/** The inbox's channel name in results and events: `inbox:<user>`. */
export function inboxChannel(user: string): string {
  return `inbox:${user}`;
}
