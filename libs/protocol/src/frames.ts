/**
 * Frame types of the WebSocket protocol (docs/protocol.md#frames), as tagged unions on `op`.
 * @module
 */
import type { FrameErrorCode } from './errors.js';

/** A client's request id, echoed in the reply: a string (at most 64 characters) or a safe integer. */
export type FrameId = string | number;

/** Per-channel seqs a client already holds: `{ "topic:news": 120 }`. */
export type SinceMap = Readonly<Record<string, number>>;

export interface SubFrame {
  readonly op: 'sub';
  readonly id: FrameId;
  /** Topic names (not channels): `news`, `orders.eu`. */
  readonly topics: readonly string[];
  readonly since?: SinceMap;
  readonly epoch?: string;
  /**
   * Topics of `topics` whose member list to receive too (docs/protocol.md#presence): each must be a
   * presence topic the token's `presence` claim allows, else its result is `forbidden`.
   */
  readonly presence?: readonly string[];
}
export interface UnsubFrame {
  readonly op: 'unsub';
  readonly id: FrameId;
  readonly topics: readonly string[];
}
export interface AuthFrame {
  readonly op: 'auth';
  readonly id: FrameId;
  readonly token: string;
}
export interface PingFrame {
  readonly op: 'ping';
  readonly id: FrameId;
}
/** Most `seqs` one `receipt` frame may list (docs/protocol.md#inbox). */
export const MAX_RECEIPT_SEQS = 1000;

/**
 * Acknowledges inbox messages (docs/protocol.md#inbox): `delivered` when the app got them,
 * `read` when the person saw them; `upTo` (cumulative) or `seqs`, exactly one of them.
 */
export type ReceiptFrame = {
  readonly op: 'receipt';
  readonly id: FrameId;
  readonly status: 'delivered' | 'read';
} & ({ readonly upTo: number; readonly seqs?: undefined } | { readonly seqs: readonly number[]; readonly upTo?: undefined });

export type ClientFrame = SubFrame | UnsubFrame | AuthFrame | PingFrame | ReceiptFrame;
export type ClientOp = ClientFrame['op'];

export interface WelcomeFrame {
  readonly op: 'welcome';
  readonly conn: string;
  readonly node: string;
  readonly user: string;
  readonly heartbeat: number;
  readonly epoch: string;
  /** Token expiry in seconds since the Unix epoch; absent when the token has none. */
  readonly exp?: number;
  /** Present when the upgrade URL carried `since`. */
  readonly recovered?: boolean;
  /**
   * Live position of the personal channel when it went live: every message with a greater
   * seq reaches this connection. A client holding nothing of the channel starts from it, so
   * a reconnect recovers what was published in between.
   */
  readonly seq?: number;
  /** `sse` on a Server-Sent Events stream (docs/protocol.md#the-stream); absent on a WebSocket. */
  readonly transport?: 'sse';
}

/** A message. `data` is any JSON value. */
export interface MsgFrame {
  readonly op: 'msg';
  readonly ch: string;
  readonly seq: number;
  readonly prev: number;
  readonly data: unknown;
  readonly ts: number;
  readonly id?: string;
  /**
   * Present (always `true`) on a message of a conflated topic that skips messages on purpose:
   * the connection fell behind, the gateway dropped the messages between the last one it got
   * and this one, and this is the channel's newest. A client accepts the `prev` gap as it
   * is (no recovery) and continues from `seq`.
   */
  readonly conflated?: true;
}

export type SubResult =
  /**
   * `seq`: the channel's live position when it went live (see WelcomeFrame.seq).
   * `conflate`: present (always `true`) when the gateway conflates the topic: a connection
   * that falls behind gets the newest message (flagged `conflated`) instead of every one.
   */
  | { readonly ok: true; readonly recovered: boolean; readonly seq?: number; readonly conflate?: true; readonly members?: readonly PresenceMember[] }
  /** `full`: the topic's presence member cap is reached (a user not yet a member cannot join). */
  | { readonly ok: false; readonly code: 'forbidden' | 'invalid' | 'limit' | 'full' };

/** One member of a presence topic: a user, with the `info` claim of one of their connections. */
export interface PresenceMember {
  readonly user: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * Members who joined (first connection anywhere in the cluster) or left (last one gone past the
 * presence grace) a topic, batched per topic: a user appears at most once per frame.
 */
export interface PresenceFrame {
  readonly op: 'presence';
  readonly ch: string;
  readonly join?: readonly PresenceMember[];
  /** User ids. */
  readonly leave?: readonly string[];
}

export interface AckFrame {
  readonly op: 'ack';
  readonly id: FrameId;
  /** For `sub`: one result per channel asked for (and for `user:<sub>` when `since` named it). */
  readonly results?: Readonly<Record<string, SubResult>>;
  /** For `auth`: the new token's expiry. */
  readonly exp?: number;
}
export interface ErrFrame {
  readonly op: 'err';
  readonly id?: FrameId;
  readonly code: FrameErrorCode;
  readonly message: string;
}
export interface PongFrame {
  readonly op: 'pong';
  readonly id: FrameId;
}
export interface HeartbeatFrame {
  readonly op: 'hb';
}
export interface RefreshFrame {
  readonly op: 'refresh';
  readonly exp: number;
}
export interface ReconnectFrame {
  readonly op: 'reconnect';
  readonly after: number;
}
/** A message of the user's inbox (docs/protocol.md#inbox). `data` is any JSON value. */
export interface InboxFrame {
  readonly op: 'inbox';
  readonly seq: number;
  readonly id: string;
  readonly ts: number;
  readonly exp?: number;
  /** `delivered`: another connection of the user acknowledged it; not read yet. */
  readonly state: 'pending' | 'delivered';
  readonly data: unknown;
}

/** Another connection of the user marked inbox messages read: every seq ≤ `upTo`, and `seqs` one by one above it. */
export interface ReadFrame {
  readonly op: 'read';
  readonly upTo: number;
  readonly seqs?: readonly number[];
}

export type ServerFrame =
  | WelcomeFrame
  | InboxFrame
  | ReadFrame
  | MsgFrame
  | AckFrame
  | ErrFrame
  | PongFrame
  | HeartbeatFrame
  | RefreshFrame
  | ReconnectFrame
  | PresenceFrame;
export type ServerOp = ServerFrame['op'];
