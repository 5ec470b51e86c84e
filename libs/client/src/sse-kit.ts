/**
 * The SSE fallback as one injected piece: the full entry (`@herald/client`) passes it to the
 * client, the WebSocket-only entry (`@herald/client/ws`) does not, so that bundle leaves out the
 * stream reader, the SSE parser, the event-id codec and the stream bookkeeping below.
 * @module
 */
import { TOPIC_PREFIX as TOPIC } from '@herald/protocol';
import type { Delivery } from './delivery.js';
import type { Subscriptions } from './subscriptions.js';
import { decodeBase64Url, encodeBase64Url } from './encoding.js';
import { endpoints } from './endpoints.js';
import type { Positions } from './positions.js';
import { readClaims, type TokenSource } from './token.js';
import type { Transport, TransportHandlers } from './transport.js';
import { openSse, sseRequest, type SseRequest, type SseTransport } from './transport-sse.js';
import type { CloseReaction, FetchLike, HeraldClientOptions, TransportName } from './types.js';


/** @internal The positions in an SSE event id of `epoch`; empty for another epoch or an unreadable id. */
export function readEventId(id: string | undefined, epoch: string | undefined): Record<string, number> {
  const at = id?.lastIndexOf('~') ?? -1;
  if (id === undefined || at < 0 || id.slice(0, at) !== epoch) return {};
  try {
    const v: unknown = JSON.parse(decodeBase64Url(id.slice(at + 1)));
    return typeof v === 'object' && v !== null ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/**
 * @internal The SSE event id of the contract, `<epoch>~<b64url(JSON {channel: seq})>`: the
 * positions held, over `base` (the server's last id); undefined when there is nothing to resume from.
 */
export function eventId(pos: Positions, base: Readonly<Record<string, number>> = {}): string | undefined {
  const all = { ...base, ...pos.sinceOf([...pos.keys()]) };
  if (pos.era === undefined || Object.keys(all).length === 0) return undefined;
  return `${pos.era}~${encodeBase64Url(JSON.stringify(all))}`;
}

/** @internal `news`, `orders.*` (one segment), `orders.>` (one or more trailing segments), `>`. */
export function patternAllows(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg === '>') return i === p.length - 1 && t.length > i;
    if (i >= t.length || (seg !== '*' && seg !== t[i])) return false;
  }
  return p.length === t.length;
}

/** @internal False only when the token's `topics` claim is known and matches no pattern (a stream names its topics up front). */
export function tokenAllows(token: string | undefined, topic: string): boolean {
  const topics = token === undefined ? undefined : readClaims(token).topics;
  return topics === undefined || topics.some((p) => patternAllows(p, topic));
}

/** @internal What the SSE kit reads of the client's state (the Commands dependencies fit it). */
export interface SseDeps {
  readonly subs: Subscriptions;
  readonly tokens: TokenSource;
  readonly delivery: Delivery;
}

/** @internal The SSE transport of one client: its fetch, endpoint and token placement, and its stream's topics and position. */
export interface SseKit {
  /** The fetch implementation; undefined: SSE cannot run here. */
  readonly fetch: FetchLike | undefined;
  /** Opens a stream for the topics wanted now. */
  open(d: SseDeps, handlers: TransportHandlers): Transport;
  /** Replaces the live stream with one for the topics wanted now and the current token; `ifChanged`: only when the topics changed. */
  reopen(d: SseDeps, t: Transport, ifChanged?: boolean): void;
  /** A stream's `welcome`: its topics are live; `recovered: false` after an event id covers every channel held. */
  welcome(d: SseDeps, recovered: unknown): void;
  /** What a refused stream's status means (401 is handled by the client): 403 asks the app, 429 stops or backs off. */
  reaction(status: number, errorCode: string | undefined): CloseReaction;
  /** A transport reached `welcome`: it works here, and its failures start again from 0. */
  welcomed(kind: TransportName): void;
  /**
   * A transport failed before `welcome`: after `failuresBeforeFallback` such failures in a row on
   * a transport that never worked, the next one in `transports` (undefined: stay).
   */
  next(kind: TransportName, transports: readonly TransportName[]): TransportName | undefined;
}

/** @internal The SSE transport for a client built with `options`. */
export function sseKit(options: HeraldClientOptions): SseKit {
  const g = globalThis as { fetch?: FetchLike; document?: unknown };
  const fetch = options.fetch ?? g.fetch?.bind(globalThis);
  const tokenIn = options.sseTokenIn ?? (g.document === undefined ? 'header' : 'query');
  const endpoint = endpoints(options.url).sse;
  const fallbackAfter = options.failuresBeforeFallback ?? 3;
  const worked = new Set<TransportName>();
  let failures = 0;
  /** Topics of the current stream, sorted. */
  let topics: string[] = [];
  /** The current stream was asked to resume from an event id. */
  let resumed = false;
  /** The last event id received: the server's position of every channel of its stream. */
  let streamId: string | undefined;
  // The stream request for the topics wanted now; topics the token's `topics` claim refuses fail here, as a `sub` would.
  const request = ({ subs, tokens, delivery }: SseDeps): SseRequest => {
    subs.takeToSubscribe();
    subs.takeToUnsubscribe();
    topics = [];
    for (const topic of subs.wanted()) {
      if (subs.refused(topic)) continue;
      if (tokenAllows(tokens.current, topic)) topics.push(topic);
      else delivery.subAck({ [TOPIC + topic]: { ok: false, code: 'forbidden' } }, undefined);
    }
    topics.sort();
    const pos = delivery.positions;
    // The server's id knows where channels that delivered nothing yet stand; what was delivered here wins.
    const id = eventId(pos, readEventId(streamId, pos.era));
    resumed = id !== undefined;
    return sseRequest(endpoint, topics, tokens.current, id, tokenIn);
  };
  return {
    fetch,
    open: (d, handlers) =>
      openSse(fetch as FetchLike, request(d), {
        ...handlers,
        frame(f, id) {
          if (id !== undefined) streamId = id; // the stream's position of every channel, for the next stream
          handlers.frame(f);
        },
      }),
    reopen(d, t, ifChanged) {
      const before = topics.join();
      const next = request(d);
      if (!ifChanged || topics.join() !== before) (t as SseTransport).reopen(next);
    },
    welcome({ delivery, subs }, recovered) {
      if (resumed && recovered === false) for (const ch of delivery.positions.keys()) delivery.lost(ch);
      for (const t of topics) subs.live(t);
    },
    welcomed(kind) {
      worked.add(kind);
      failures = 0;
    },
    next(kind, transports) {
      if (++failures < fallbackAfter || worked.has(kind)) return undefined;
      const next = transports[(transports.indexOf(kind) + 1) % transports.length];
      if (next === kind) return undefined;
      failures = 0;
      return next;
    },
    reaction: (status, errorCode) => (status === 403 ? 'ask-app' : status === 429 ? (errorCode === 'too_many_connections' ? 'stop' : 'reconnect-slow') : 'reconnect'),
  };
}
