/** ConnState: the small per-connection record kept as uWS userData (no logger, no closures). */
import { randomBytes } from 'node:crypto';
import { userChannel } from '@herald/protocol';
import type { VerifiedToken } from '@herald/auth';
import { EMPTY, withItem, withoutItem } from './exact-list.js';

/**
 * The part of a uWS WebSocket the gateway uses. uWS's `WebSocket<ConnState>` satisfies it
 * structurally, so code below `ws/behavior.ts` never imports uWS and unit tests can pass a
 * small recording socket.
 */
export interface WsLike {
  send(message: string, isBinary?: boolean, compress?: boolean): number;
  getBufferedAmount(): number;
  end(code?: number, shortMessage?: string): void;
  subscribe(topic: string): boolean;
  unsubscribe(topic: string): boolean;
  cork(cb: () => void): unknown;
  /** uWS sockets have it; SSE streams do not (they are never conflated). */
  isSubscribed?(topic: string): boolean;
  /**
   * Only SSE streams have it: sends a `msg` frame of `channel` at `seq` (the stream's event
   * id carries every channel's position). Without it, `msg` frames go through `send`.
   */
  sendMsg?(channel: string, seq: number, frame: string): number;
}

/** Prepared during the upgrade, consumed by the go-live step after open (see ws/lifecycle.ts). */
export interface PendingOpen {
  /** The URL had `since`: `welcome` carries `recovered` (false when `since` was unusable). */
  readonly resumeAsked: boolean;
  /** A usable `since` (and `epoch`) of the URL: the personal channel is recovered from there. */
  readonly resume: { readonly since: number; readonly epoch: string | undefined } | undefined;
  /** `?inbox=`: the last inbox seq the client holds (0: none). */
  readonly inbox?: number;
}

/** A conflated channel a connection was paused on (hub/conflation.ts). */
export interface PausedChannel {
  /** The channel's last seq fanned out before the pause: the socket holds everything up to it. */
  readonly lastSeq: number;
  /** The channel's message count (ChannelRecord.count) at the pause: skipped = count now − this − 1. */
  readonly count: number;
}

/** The conflated channels of a connection; absent while it holds none. */
export interface ConnConflation {
  /** Conflated topic channels this connection holds (a subset of `channels`). */
  readonly held: Set<string>;
  /** Those it is paused on: natively unsubscribed because its send buffer passed the high-water mark. */
  readonly paused: Map<string, PausedChannel>;
  /**
   * Bytes the buffer held above the high-water mark when the current pause began: the 4008
   * limit is raised by this much while paused, so conflated traffic queued before the pause
   * does not count against the connection. 0 when not paused.
   */
  slack: number;
}

/** One connection. Fields are plain values so a node with 100k connections stays small. */
export interface ConnState {
  readonly connId: string;
  readonly sub: string;
  /** `user:<sub>`, computed once. */
  readonly userChannel: string;
  /** Token expiry, seconds since the epoch; undefined when the token has none. */
  exp: number | undefined;
  /** What the current token allows (replaced by a successful `auth`). */
  topics: VerifiedToken['topics'];
  /** Topics whose presence members the current token may read (its `presence` claim); undefined: none. */
  presenceRead: VerifiedToken['presence'] | undefined;
  /** The token's presence `info` claim (shown with this user in member lists); undefined: none. */
  readonly info: VerifiedToken['info'] | undefined;
  /**
   * Topic channels this connection holds (live or being recovered); the personal channel is not
   * in it. An exact-size array replaced on every change (conn/exact-list.ts; change it through
   * addChannel / removeChannel): at most HERALD_MAX_SUBSCRIPTIONS_PER_CONN (200 by default)
   * entries, so a linear search is cheap, and most connections hold one or two.
   */
  channels: readonly string[];
  /** Command token bucket: tokens left and the time (ms) of the last refill. */
  cmdTokens: number;
  cmdAt: number;
  /** Recoverable bad frames so far. */
  badFrames: number;
  /** Time (ms) of the last direct send (fan-out through app.publish does not update it). */
  lastSendAt: number;
  /** `refresh` was sent for the current `exp`. */
  refreshSent: boolean;
  /** Set by the close handler; after it nothing may touch `ws`. */
  closed: boolean;
  /** The socket, from `open` until `close`. */
  ws: WsLike | undefined;
  /** Set from the upgrade until `welcome` is sent (or the socket closes): nothing else may be sent meanwhile. */
  pendingOpen: PendingOpen | undefined;
  /** The connection holds its interest reference on the personal channel (from go-live, or the SSE start, to close). */
  personalHeld: boolean;
  /** Tail of this connection's command queue (sub/unsub/auth run one at a time, acks in order); undefined when idle. */
  queue: Promise<void> | undefined;
  /** Set while the connection holds a conflated topic (hub/conflation.ts). */
  conflate: ConnConflation | undefined;
}

/**
 * The uWS userData. uWS.js copies the userData's properties onto its WebSocket object and
 * `getUserData()` returns that object, so the object built during the upgrade is not the
 * one seen after it: ConnState travels inside this one-field holder and stays one object
 * from upgrade to close (the recovery buffer and the connection table hold it).
 */
export interface ConnSlot {
  readonly st: ConnState;
}

/** Connection ids: node id, a per-process random tag (restarts do not reuse ids), a counter. */
export class ConnIds {
  readonly #prefix: string;
  #next = 0;
  constructor(nodeId: string) {
    this.#prefix = `${nodeId}.${randomBytes(3).toString('hex')}.`;
  }
  next(): string {
    return this.#prefix + (++this.#next).toString(36);
  }
}

/** A fresh ConnState for a verified token (before the socket exists). */
export function newConnState(connId: string, token: VerifiedToken, cmdBurst: number, now: number): ConnState {
  return {
    connId,
    sub: token.sub,
    userChannel: userChannel(token.sub),
    exp: token.exp,
    topics: token.topics,
    channels: EMPTY,
    cmdTokens: cmdBurst,
    cmdAt: now,
    badFrames: 0,
    lastSendAt: now,
    refreshSent: false,
    closed: false,
    ws: undefined,
    pendingOpen: undefined,
    personalHeld: false,
    queue: undefined,
    conflate: undefined,
    // always set (undefined when absent): every ConnState has one shape with its fields inside
    // the object, where a conditional spread would add them to a separate property array
    presenceRead: token.presence,
    info: token.info,
  };
}

/** Adds a topic channel to `st.channels`; false when it held it already. */
export function addChannel(st: ConnState, channel: string): boolean {
  if (st.channels.includes(channel)) return false;
  st.channels = withItem(st.channels, channel);
  return true;
}

/** Removes a topic channel from `st.channels`; false when it did not hold it. */
export function removeChannel(st: ConnState, channel: string): boolean {
  const next = withoutItem(st.channels, channel);
  if (next === st.channels) return false;
  st.channels = next;
  return true;
}
