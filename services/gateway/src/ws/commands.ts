/** Client commands, one function per op (sub, unsub, auth, ping) → the reply frame. No uWS here. */
import { AuthError, type TokenVerifier, type VerifiedToken } from '@herald/auth';
import {
  TOPIC_PREFIX, USER_PREFIX, isValidTopic,
  type AckFrame, type AuthFrame, type ClientFrame, type ErrFrame, type FrameId, type PingFrame, type PongFrame, type SubFrame,
  type ReceiptFrame, type SubResult, type UnsubFrame,
} from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { Subscriptions } from '../hub/subscriptions.js';
import type { ConnState } from '../conn/state.js';
import type { PresenceMembers } from '../presence/members.js';

export interface CommandDeps {
  readonly subscriptions: Pick<Subscriptions, 'join' | 'leave'>;
  readonly verifier: TokenVerifier;
  /** MAX_SUBSCRIPTIONS_PER_CONN (topic channels; the personal channel is free). */
  readonly maxSubscriptions: number;
  /** The bus's live position of a channel (Bus.position). */
  readonly position: (channel: string) => number | undefined;
  /** True for a conflated topic channel (its `sub` result says `conflate: true`); absent: none is. */
  readonly isConflated?: (channel: string) => boolean;
  /** Presence members (presence/members.ts); absent: off. */
  readonly presence?: Pick<PresenceMembers, 'isPresenceTopic' | 'admit' | 'addReader' | 'dropReader'>;
  /** The `ws` component logger. */
  readonly log: Logger;
  /** The inbox (inbox/index.ts): `receipt` frames; absent: answered `unavailable`. */
  readonly inbox?: { receipt(st: ConnState, frame: ReceiptFrame): Promise<AckFrame | ErrFrame> };
}

type Reply = AckFrame | ErrFrame | PongFrame;

const FORBIDDEN: SubResult = { ok: false, code: 'forbidden' };
const INVALID: SubResult = { ok: false, code: 'invalid' };
const LIMIT: SubResult = { ok: false, code: 'limit' };
const FULL: SubResult = { ok: false, code: 'full' };

function err(id: FrameId, code: ErrFrame['code'], message: string): ErrFrame {
  return { op: 'err', id, code, message };
}

/**
 * `sub`: a result per channel; the ack is built only after every bus subscription is
 * confirmed (the contract: live when acked). Per topic, in order: invalid name → token
 * refuses → already held (idempotent; recovers again when `since` names it) → over the
 * per-connection limit → subscribe. `since` may name the personal channel (recovered in
 * place) and only topic channels listed in `topics` otherwise. A bus failure answers `err`
 * `internal` (the channels that did succeed stay; a retry is idempotent).
 */
export async function handleSub(frame: SubFrame, st: ConnState, deps: CommandDeps): Promise<Reply> {
  const results: Record<string, SubResult> = {};
  const pending: Promise<void>[] = [];
  let failed = false;
  const since = frame.since;
  let held = st.channels.length;
  const run = (channel: string, seq: number | undefined): void => {
    const resume = seq === undefined ? undefined : { since: seq, epoch: frame.epoch };
    pending.push(
      deps.subscriptions.join(st, channel, resume).then(
        (recovered) => void (results[channel] = { ok: true, recovered }),
        (e: unknown) => {
          failed = true;
          deps.log.warn({ conn: st.connId, user: st.sub, channel, err: e }, 'subscribe failed');
        },
      ),
    );
  };
  const presence = deps.presence;
  // Presence topics: the member cap is checked first (a new user of a full topic gets `full`).
  const full = new Set<string>();
  if (presence) {
    await Promise.all(frame.topics.map(async (name) => {
      if (!isValidTopic(name) || !presence.isPresenceTopic(name) || st.channels.includes(TOPIC_PREFIX + name) || !st.topics.allows(name)) return;
      if (!(await presence.admit(st, name))) full.add(name);
    }));
  }
  const wantsMembers = new Set(frame.presence ?? []);
  const readable = (name: string): boolean => presence !== undefined && presence.isPresenceTopic(name) && st.presenceRead?.allows(name) === true;
  for (const name of frame.topics) {
    const channel = TOPIC_PREFIX + name;
    if (channel in results) continue;
    if (!isValidTopic(name)) results[channel] = INVALID;
    else if (!st.topics.allows(name) || (wantsMembers.has(name) && !readable(name))) results[channel] = FORBIDDEN;
    else if (full.has(name)) results[channel] = FULL;
    else if (!st.channels.includes(channel) && held >= deps.maxSubscriptions) results[channel] = LIMIT;
    else {
      if (!st.channels.includes(channel)) held++;
      results[channel] = { ok: true, recovered: false }; // placeholder keeps the frame's order
      run(channel, since?.[channel]);
    }
  }
  if (since !== undefined) {
    for (const channel of Object.keys(since)) {
      if (!channel.startsWith(USER_PREFIX)) continue;
      if (channel !== st.userChannel) results[channel] = FORBIDDEN;
      else run(channel, since[channel]);
    }
  }
  await Promise.all(pending);
  if (failed) return err(frame.id, 'internal', 'subscription failed; retry');
  if (wantsMembers.size > 0 && presence) {
    await Promise.all(Object.entries(results).map(async ([channel, r]) => {
      if (!r.ok || !st.channels.includes(channel) || !wantsMembers.has(channel.slice(TOPIC_PREFIX.length))) return;
      results[channel] = { ...r, members: await presence.addReader(st, channel.slice(TOPIC_PREFIX.length)) };
    }));
  }
  // The live position at ack time: messages sent before the ack are at or below it, all later
  // ones above it. A client that holds nothing of a channel starts from it (docs/protocol.md#delivery-guarantees).
  for (const [channel, r] of Object.entries(results)) {
    if (!r.ok) continue;
    const seq = deps.position(channel);
    const conflate = deps.isConflated?.(channel) === true;
    if (seq !== undefined || conflate) results[channel] = { ...r, ...(seq !== undefined ? { seq } : {}), ...(conflate ? { conflate: true as const } : {}) };
  }
  return { op: 'ack', id: frame.id, results };
}

/** `unsub`: leaves each held topic (unknown or invalid names are ignored) → ack. */
export function handleUnsub(frame: UnsubFrame, st: ConnState, deps: CommandDeps): Reply {
  for (const name of frame.topics) deps.subscriptions.leave(st, TOPIC_PREFIX + name);
  return { op: 'ack', id: frame.id };
}

/**
 * `auth`: a fresh token for the same `sub`. Updates `exp` and the topic matcher; held topics
 * the new token no longer allows are dropped and reported in `results` as `forbidden`.
 * A refused token answers `err` and the connection stays with its current token.
 */
export async function handleAuth(frame: AuthFrame, st: ConnState, deps: CommandDeps): Promise<Reply> {
  let token: VerifiedToken;
  try {
    token = await deps.verifier.verify(frame.token);
  } catch (e) {
    if (e instanceof AuthError && e.code === 'key_unavailable') return err(frame.id, 'internal', 'verification keys unavailable');
    const message = e instanceof AuthError ? e.message : 'token rejected';
    return err(frame.id, 'token_invalid', message);
  }
  if (token.sub !== st.sub) return err(frame.id, 'token_mismatch', 'token is for another user');
  st.exp = token.exp;
  st.topics = token.topics;
  st.presenceRead = token.presence;
  st.refreshSent = false;
  let dropped: Record<string, SubResult> | undefined;
  for (const channel of [...st.channels]) {
    const name = channel.slice(TOPIC_PREFIX.length);
    if (deps.presence && token.presence?.allows(name) !== true) deps.presence.dropReader(st, name);
    if (token.topics.allows(name)) continue;
    deps.subscriptions.leave(st, channel);
    (dropped ??= {})[channel] = FORBIDDEN;
  }
  const ack: { op: 'ack'; id: FrameId; exp?: number; results?: Record<string, SubResult> } = { op: 'ack', id: frame.id };
  if (token.exp !== undefined) ack.exp = token.exp;
  if (dropped !== undefined) ack.results = dropped;
  return ack;
}

/** `ping` → `pong`. */
export function handlePing(frame: PingFrame): Reply {
  return { op: 'pong', id: frame.id };
}

/** Dispatches a decoded frame. `ping` and `unsub` answer synchronously. */
export function handleCommand(frame: ClientFrame, st: ConnState, deps: CommandDeps): Reply | Promise<Reply> {
  switch (frame.op) {
    case 'sub':
      return handleSub(frame, st, deps);
    case 'unsub':
      return handleUnsub(frame, st, deps);
    case 'auth':
      return handleAuth(frame, st, deps);
    case 'ping':
      return handlePing(frame);
    case 'receipt':
      return deps.inbox?.receipt(st, frame) ?? err(frame.id, 'unavailable', 'inbox not enabled on this gateway');
    default: {
      const never: never = frame;
      throw new TypeError(`unhandled op ${JSON.stringify(never)}`);
    }
  }
}
