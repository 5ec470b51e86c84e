/**
 * Presence keys: `u.<base64url(user)>` and `t.<base64url(topic)>` (valid KV keys whatever the
 * id holds), and the event a transition of a key makes.
 * @module
 */
import { decodeToken, encodeToken } from '@herald/bus';
import { eventId, makeEvent, type AnyEvent } from './event.js';
import type { TransitionKind } from './presence-state.js';

export type KeyKind = 'user' | 'topic';

export function userKey(user: string): string {
  return 'u.' + encodeToken(user);
}

export function topicKey(topic: string): string {
  return 't.' + encodeToken(topic);
}

/** The kind and name of a presence key; `undefined` for anything else (node keys, junk). */
export function describeKey(key: string): { kind: KeyKind; name: string } | undefined {
  const kind = key.startsWith('u.') ? 'user' : key.startsWith('t.') ? 'topic' : undefined;
  if (!kind) return undefined;
  const name = decodeToken(key.slice(2));
  return name === undefined || name.length === 0 ? undefined : { kind, name };
}

/**
 * The event of a transition. Its id hashes the store's epoch, the key and the revision the
 * transition's compare-and-set was made against: a CAS against one revision succeeds once,
 * so one transition has one id, however often it is published.
 */
export function transitionEvent(epoch: string, key: string, baseRevision: number, kind: TransitionKind, nowMs: number): AnyEvent | undefined {
  const k = describeKey(key);
  if (!k) return undefined;
  const id = eventId(epoch, key, baseRevision, kind);
  if (k.kind === 'user') return makeEvent(kind === 'up' ? 'user.online' : 'user.offline', id, { user: k.name }, nowMs);
  return makeEvent(kind === 'up' ? 'topic.occupied' : 'topic.vacated', id, { topic: k.name }, nowMs);
}
