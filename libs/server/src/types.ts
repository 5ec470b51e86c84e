/** Request and answer shapes of the publish API (docs/publish-api.md). */

/** Exactly one target: a topic, several topics, a user, or several users. */
export type PublishTarget =
  | { readonly topic: string; readonly topics?: never; readonly user?: never; readonly users?: never }
  | { readonly topics: readonly string[]; readonly topic?: never; readonly user?: never; readonly users?: never }
  | { readonly user: string; readonly topic?: never; readonly topics?: never; readonly users?: never }
  | { readonly users: readonly string[]; readonly topic?: never; readonly topics?: never; readonly user?: never };

/** A message to publish: a target, `data` (any JSON value) and optionally your own idempotency `id`. */
export type PublishMessage = PublishTarget & {
  readonly data: unknown;
  /** 1 to 64 visible ASCII characters. Default: a random UUID, generated once and kept across retries. */
  readonly id?: string;
};

/** One stored message per distinct target channel, in request order. */
export interface ChannelResult {
  /** `topic:<name>` or `user:<id>`. */
  readonly ch: string;
  readonly seq: number;
  /** The id was already stored on this channel within the dedupe window: nothing was stored again. */
  readonly duplicate?: true;
}

export interface PublishResult {
  /** The idempotency id the message was published with (yours, or the generated one). */
  readonly id: string;
  readonly results: readonly ChannelResult[];
}

export interface HistoryQuery {
  /** The channel: `topic:<name>` or `user:<id>`. */
  readonly ch: string;
  /** Messages with a seq above this one. Default 0. */
  readonly since?: number;
  /** 1 to 1000. Default 100. */
  readonly limit?: number;
}

export interface HistoryMessage {
  readonly ch: string;
  readonly seq: number;
  readonly prev: number;
  /** Storage time, ms since the Unix epoch. */
  readonly ts: number;
  readonly data: unknown;
  readonly id?: string;
}

export interface HistoryPage {
  readonly epoch: string;
  /** False when history no longer holds every message after `since`: reload your state. */
  readonly complete: boolean;
  /** True when more than `limit` messages were available: ask again from the last seq. */
  readonly truncated: boolean;
  readonly messages: readonly HistoryMessage[];
}

export type PresenceQuery = { readonly user: string; readonly topic?: never } | { readonly topic: string; readonly user?: never };
export interface UserPresence {
  readonly user: string;
  /** Connections of this user, across every gateway node. */
  readonly connections: number;
}
export interface TopicPresence {
  readonly topic: string;
  /** Subscribed connections, across every gateway node. */
  readonly subscribers: number;
}

/** Close codes the API may send (docs/publish-api.md). */
export type DisconnectCode = 1000 | 1008 | 4001 | 4003 | 4009 | 4029;

export interface DisconnectRequest {
  readonly user: string;
  /** Default 4003: the client asks the application before reconnecting. */
  readonly code?: DisconnectCode;
  /** At most 123 bytes. */
  readonly reason?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call, its retries included (throws `HeraldRequestError` with code `aborted`). */
  readonly signal?: AbortSignal;
}
