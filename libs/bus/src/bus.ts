/**
 * The Bus: how messages travel between the publish API and the gateway nodes, and
 * where history lives. Two implementations share these semantics and one contract
 * test suite: MemoryBus (one process) and NatsBus (NATS + JetStream).
 * @module
 */
import type { MemberPlane, MemberState } from './members.js';

/** A stored message as delivered to a gateway. */
export interface BusMessage {
  /** `topic:<name>` or `user:<id>`. */
  readonly channel: string;
  /** Strictly increasing within the channel; positive. */
  readonly seq: number;
  /** Seq of the previous message of the same channel, 0 when there is none. */
  readonly prev: number;
  /** Time the message was stored, in ms since the Unix epoch. */
  readonly ts: number;
  /** The payload as JSON text, never re-parsed on the fan-out path. */
  readonly data: string;
  /** The publisher's idempotency key, when given. */
  readonly id?: string;
  /** Request context of the publish, on live delivery only (never in history); absent when there was none. */
  readonly trace?: MessageTrace;
}

/**
 * Request context a message carries from the publish API to the gateways (NATS headers
 * `Herald-Request-Id`, `traceparent`, `tracestate`), for their logs and spans. Values are
 * validated by the publish API: printable ASCII, bounded, no CR or LF.
 */
export interface MessageTrace {
  /** The publish request's `x-request-id`. */
  readonly reqId: string;
  /** W3C `traceparent` a gateway's fan-out continues (the bus publish span when tracing, else the request's own). */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface PublishRequest {
  /** A valid channel (the caller validated it). */
  readonly channel: string;
  /** JSON text (the caller validated and bounded it). */
  readonly data: string;
  /** Idempotency key: the same key for the same channel within the dedupe window stores nothing new. */
  readonly id?: string;
  /** Request context to deliver with the message; absent: none (no header work on the hot path). */
  readonly trace?: MessageTrace;
}

export interface PublishResult {
  readonly channel: string;
  readonly seq: number;
  /** True when the id was seen within the dedupe window and nothing new was stored. */
  readonly duplicate: boolean;
}

export interface HistoryQuery {
  /** Return messages with seq greater than this (default 0: everything held). */
  readonly since?: number;
  /** At most this many messages (default 100, at most MAX_HISTORY_LIMIT). */
  readonly limit?: number;
}

export interface HistoryPage {
  readonly epoch: string;
  /** In seq order. */
  readonly messages: readonly BusMessage[];
  /**
   * True when history still holds every message of the channel with seq > since
   * (nothing in that range was trimmed by the count or age window). When false the
   * reader missed something and must reload its state.
   */
  readonly complete: boolean;
  /** True when more messages than `limit` were available after `since`. */
  readonly truncated: boolean;
}

/** Presence query: one of user or topic. */
export type PresenceQuery = { readonly user: string } | { readonly topic: string };

/** What a gateway node answers to control requests that reach every node. */
export interface ControlHandlers {
  /** This node's members of a presence topic (members.ts); absent or `undefined`: none here. */
  members?(topic: string): MemberState | undefined;
  /** Close this node's connections of `user`; return how many were closed. */
  disconnect(user: string, code: number, reason: string): number;
  /** This node's live connections of a user, or subscribers of a topic. */
  presence(query: PresenceQuery): number;
}

export type BusStatus = 'connected' | 'disconnected' | 'reconnected' | 'closed';

export type MessageHandler = (message: BusMessage) => void;

export interface Bus {
  readonly kind: 'memory' | 'nats';
  /** Names the incarnation of the history store; seqs of another epoch mean nothing. */
  epoch(): string;
  /** Stores and delivers one message. Rejects with BusError 'unavailable' when nothing was stored, 'timeout' when it may have been (no acknowledgement in time), 'closed' after close(). */
  publish(request: PublishRequest): Promise<PublishResult>;
  /**
   * Starts live delivery of a channel to `handler` (one handler per channel per bus:
   * the gateway's interest table is the only caller). Resolves once the subscription
   * is confirmed by the server, so every message published afterwards arrives.
   * Messages arrive in seq order; a bus that detects a gap (e.g. after a reconnect)
   * repairs it from history before delivering newer messages.
   */
  subscribe(channel: string, handler: MessageHandler): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  /**
   * Live position of a subscribed channel: every message with a greater seq is still
   * to reach the handler; those at or below it were delivered or preceded the
   * subscription. `undefined` when the channel is not subscribed. A reader that
   * replayed history up to seq R waits until the position reaches R before it treats
   * live delivery as the continuation of its replay (a gap repair may still be
   * delivering older messages).
   */
  position(channel: string): number | undefined;
  /** Reads history of one channel. */
  history(channel: string, query?: HistoryQuery): Promise<HistoryPage>;
  /** Registers this gateway node to answer control requests (disconnect, presence). */
  serveControl(nodeId: string, handlers: ControlHandlers): Promise<void>;
  /** Closes a user's connections on every node; resolves with the total closed. */
  disconnect(user: string, code: number, reason: string): Promise<number>;
  /** Live connection (user) or subscriber (topic) count across every node. */
  presence(query: PresenceQuery): Promise<number>;
  /** Presence member lists across nodes (members.ts). */
  readonly members: MemberPlane;
  /**
   * Canary: publishes through the same path as real messages and waits to receive
   * it back. Rejects when the round trip fails or times out. Used by /readyz.
   */
  probe(nodeId: string, timeoutMs: number): Promise<number>;
  isConnected(): boolean;
  /** Listens to connection status changes; returns an unsubscribe function. */
  onStatus(listener: (status: BusStatus) => void): () => void;
  /** Drains subscriptions, then closes. */
  close(): Promise<void>;
}

/** Default and maximum `limit` of a history read. */
export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;
