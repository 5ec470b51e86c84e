/**
 * Public types of @herald/client: options, messages, states, events and errors.
 * Self-contained on purpose: the published declarations depend on nothing else.
 * @module
 */

/** Where the client is in its life. `closed` is final; `disconnected` waits for `connect()`. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed';

/** A transport to the gateway: WebSocket (`/v1/ws`) or Server-Sent Events (`/v1/sse`). */
export type TransportName = 'websocket' | 'sse';

/** What the client does after a close (the contract's table, shared with the gateway). */
export type CloseReaction = 'stop' | 'reconnect' | 'reconnect-slow' | 'new-token' | 'ask-app';

/** A message of a topic or of the personal channel. Delivered once, in `seq` order per channel. */
export interface HeraldMessage<T = unknown> {
  /** The channel: `topic:<name>` or `user:<id>`. */
  readonly ch: string;
  /** Strictly increasing within the channel (not contiguous). */
  readonly seq: number;
  /** Any JSON value, as published. */
  readonly data: T;
  /** When the message was stored, in ms since the Unix epoch. */
  readonly ts: number;
  /** The publisher's idempotency key, when it gave one. */
  readonly id?: string;
  /**
   * `true` on a message of a conflated topic that skips older messages on purpose: the
   * connection fell behind and the gateway sent the channel's newest message instead of every
   * one. Treat it as the current state; nothing was lost that recovery would bring back.
   */
  readonly conflated?: true;
}

/** Receives the messages of one subscription. */
export type MessageHandler<T = unknown> = (message: HeraldMessage<T>) => void;

/**
 * The answer to a subscription: live, or refused with the gateway's code. `conflate: true`:
 * the gateway conflates the topic (a client that falls behind gets the newest message, flagged
 * `conflated`, instead of every one).
 */
export type SubscribeResult = { readonly ok: true; readonly conflate?: true } | { readonly ok: false; readonly code: string };

/** Options of `subscribe()`. */
export interface SubscribeOptions {
  /**
   * When the topic is first subscribed, deliver first its newest `rewind` messages still in the
   * gateway's history (at most `HERALD_HISTORY_SIZE`, within `HERALD_HISTORY_TTL_MS`), then the
   * live ones. WebSocket only; ignored when the client already holds the topic. Default 0.
   */
  readonly rewind?: number;
  /**
   * Also follow who is on the topic (a presence topic, with a token whose `presence` claim allows
   * it; else `ready` answers `forbidden`): `subscription.presence`. WebSocket only.
   */
  readonly presence?: boolean;
}

/** Who is on a topic: the members (user id → their `info`, `{}` when none) and their joins and leaves. */
export interface Presence {
  /** The current members; updated before `join` / `leave` handlers run. After a reconnect the differences come as joins and leaves. */
  readonly members: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Calls `fn(user, info)` for each join, or `fn(user)` for each leave; returns a function that stops it. */
  on(event: 'join' | 'leave', fn: (user: string, info: Readonly<Record<string, unknown>>) => void): () => void;
}

/** A handle on one `subscribe()` call. */
export interface Subscription {
  /** The topic name, e.g. `news`. */
  readonly topic: string;
  /**
   * Settles once the gateway first answered for this topic: `{ ok: true }` when live, or
   * `{ ok: false, code }` (`forbidden`, `invalid`, `limit`). Never rejects.
   */
  readonly ready: Promise<SubscribeResult>;
  /** Stops delivery to this handler; the topic is left once no handler remains. Idempotent. */
  unsubscribe(): void;
  /** With `presence: true`: who is on the topic. */
  readonly presence?: Presence;
}

/** The server's greeting, as the `connected` event reports it. */
export interface ConnectedInfo {
  readonly transport: TransportName;
  /** The gateway node that holds the connection. */
  readonly node: string;
  /** The connection id. */
  readonly conn: string;
  /** The user id (the token's `sub`). */
  readonly user: string;
  /** The history store's incarnation. */
  readonly epoch: string;
}

/** A channel whose missed messages could not be replayed: reload that state. */
export interface UnrecoveredEvent {
  readonly channel: string;
}

/** The events of a HeraldClient and their handler arguments. */
export interface HeraldClientEvents {
  /** The state changed. */
  state: [state: ConnectionState, previous: ConnectionState];
  /** A `welcome` arrived: the connection is ready. */
  connected: [info: ConnectedInfo];
  /** A message on the personal channel `user:<sub>`. */
  user: [message: HeraldMessage];
  /** Something failed: see `HeraldError.code`, `closeCode` and `reaction`. */
  error: [error: HeraldErrorLike];
  /** History no longer covers what was missed on a channel: reload its state. */
  unrecovered: [event: UnrecoveredEvent];
}

/** The fields of a HeraldError (the class lives in errors.ts). */
export interface HeraldErrorLike {
  readonly code: string;
  readonly message: string;
  readonly closeCode?: number;
  readonly status?: number;
  readonly reaction?: CloseReaction;
  readonly topic?: string;
  readonly transport?: TransportName;
}

/** Any event of the WebSocket implementation (browser or the `ws` package). */
export interface WebSocketEventLike {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  /** `ws` puts `Unexpected server response: 401` here on a refused upgrade. */
  readonly message?: string;
}

/** The part of the WebSocket API the client uses; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` or `import WebSocket from 'ws'`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The part of `fetch` the SSE transport uses. */
export type FetchLike = (url: string, init: { headers: Record<string, string>; signal: AbortSignal; cache?: 'no-store' }) => Promise<Response>;

/** Options of `new HeraldClient()`. Only `url` is required. */
export interface HeraldClientOptions {
  /** The gateway's base URL (`https://push.example.com`, `ws://127.0.0.1:8080`); `/v1/ws` and `/v1/sse` are derived. */
  readonly url: string;
  /** A JWT. Used until it expires or the gateway refuses it; then `getToken` is asked. */
  readonly token?: string;
  /** Fetches a fresh JWT: on `refresh`, on 4001 / 401, and before reconnecting with an expired token. */
  readonly getToken?: () => string | Promise<string>;
  /** Transports to use, in order of preference. Default `['websocket', 'sse']`. */
  readonly transports?: readonly TransportName[];
  /** WebSocket implementation where there is no global one (Node 20: `import WebSocket from 'ws'`). */
  readonly WebSocket?: WebSocketConstructor;
  /** fetch implementation for the SSE transport; default `globalThis.fetch`. */
  readonly fetch?: FetchLike;
  /** Where the SSE transport puts the token: `query` (no CORS preflight; the browser default) or `header` (the default without `document`, e.g. Node). */
  readonly sseTokenIn?: 'query' | 'header';
  /** Backoff base in ms (default 500): attempt n waits random(0, min(max, base·2^n)). */
  readonly minReconnectDelayMs?: number;
  /** Backoff cap in ms (default 30 000). */
  readonly maxReconnectDelayMs?: number;
  /** Time allowed for a `welcome` after opening a transport, in ms (default 10 000). */
  readonly connectTimeoutMs?: number;
  /** Time allowed for an `ack`, in ms (default 10 000); on timeout the connection is considered dead. */
  readonly ackTimeoutMs?: number;
  /** Consecutive failures to reach `welcome` on a transport that never worked before moving to the next (default 3). */
  readonly failuresBeforeFallback?: number;
}
