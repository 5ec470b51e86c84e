/** The SSE request, copied out of uWS's stack-allocated HttpRequest, and the pure choices made from it. */
import { MAX_TOPICS_PER_FRAME, TOPIC_PREFIX, isValidTopic } from '@herald/protocol';
import { corsVerdict, remoteAddress, type CorsPolicy, type HeaderList, type HttpRequest, type HttpResponse } from '@herald/uws';
import { refusal, type Refusal } from '../conn/refusal.js';
import { parseEventId, type ResumeId } from './event-id.js';

/** Everything the stream needs after the handler returns. The query may hold the token: never log it. */
export interface SseHead {
  readonly origin: string;
  readonly authorization: string;
  /** The `Last-Event-ID` header (the browser's automatic reconnect). */
  readonly lastEventId: string;
  /** Raw query string: `topics`, `token`, `lastEventId`. */
  readonly query: string;
  readonly ip: string;
}

/** Copies what the stream needs: `req` is only valid during the synchronous handler. */
export function readSseHead(req: HttpRequest, res: HttpResponse): SseHead {
  return {
    origin: req.getHeader('origin'),
    authorization: req.getHeader('authorization'),
    lastEventId: req.getHeader('last-event-id'),
    query: req.getQuery() ?? '',
    ip: remoteAddress(res),
  };
}

/** The stream's topics, or the 400 that refuses it. */
export type TopicsResult = { readonly ok: true; readonly topics: readonly string[] } | { readonly ok: false; readonly refusal: Refusal };

/** Keeps error messages short when a client sends a huge name. */
function shown(name: string): string {
  return name.length <= 64 ? name : name.slice(0, 64) + '…';
}

/**
 * `?topics=a,b` (repeated `topics` parameters add up): distinct names in order, at most
 * `max` of them (docs/protocol.md#opening-a-stream: 100). Empty or absent: the personal channel only.
 */
export function parseTopics(query: string, max: number = MAX_TOPICS_PER_FRAME): TopicsResult {
  const names = new Set<string>();
  for (const value of new URLSearchParams(query).getAll('topics')) {
    if (value.length === 0) continue;
    for (const name of value.split(',')) {
      names.add(name);
      if (names.size > max) {
        return { ok: false, refusal: refusal('invalid_query', `at most ${max} topics per stream`) };
      }
    }
  }
  for (const name of names) {
    if (!isValidTopic(name)) {
      return { ok: false, refusal: refusal('invalid_channel', `invalid topic name: ${shown(name)}`) };
    }
  }
  return { ok: true, topics: [...names] };
}

/** The first topic the token does not allow, as a 403; undefined when all are allowed. */
export function forbiddenTopic(topics: readonly string[], allows: (topic: string) => boolean): Refusal | undefined {
  for (const name of topics) {
    if (!allows(name)) return refusal('forbidden', `topic not allowed by the token: ${shown(name)}`);
  }
  return undefined;
}

/** Channels of a stream: the personal channel first, then the topics in request order. */
export function streamChannels(userChannel: string, topics: readonly string[]): string[] {
  return [userChannel, ...topics.map((t) => TOPIC_PREFIX + t)];
}

/**
 * Where the client says it is: the `Last-Event-ID` header (sent by EventSource on its own
 * reconnects) wins over `?lastEventId=` (for clients that reconnect by hand; a browser's
 * automatic reconnect repeats the URL, so the header is the fresher of the two).
 */
export function resumeIdOf(head: Pick<SseHead, 'lastEventId' | 'query'>): ResumeId {
  if (head.lastEventId.length > 0) return parseEventId(head.lastEventId);
  return parseEventId(new URLSearchParams(head.query).get('lastEventId') ?? '');
}

/** The fixed headers of a stream (no caching, no proxy buffering or transformation). */
export const SSE_HEADERS: HeaderList = [
  ['content-type', 'text/event-stream'],
  ['cache-control', 'no-cache, no-transform'],
  ['x-accel-buffering', 'no'],
  ['connection', 'keep-alive'],
];

/**
 * CORS of the stream (docs/protocol.md#opening-a-stream), from the helper both roles share.
 * EventSource sends a simple GET: the route answers no preflight, so the preflight's methods and
 * headers are never sent (they say what a preflight would allow). Other origins are refused with
 * 403 `origin_not_allowed`, by admission; every answer carries `Vary: Origin`. Nothing to expose:
 * EventSource cannot read headers.
 */
const SSE_CORS: CorsPolicy = { allowMethods: 'GET', allowHeaders: 'authorization, last-event-id', otherOrigins: 'refuse' };

/**
 * CORS headers of every answer (the stream and the refusals): for an allowed Origin
 * `Access-Control-Allow-Origin` (the origin as sent) and `Vary: Origin`; for another (admission
 * answers it 403) and without Origin (not a browser) `Vary: Origin` only. Credentials are not used.
 */
export function corsHeaders(origin: string, allowed: (origin: string) => boolean): HeaderList {
  return corsVerdict(SSE_CORS, 'GET', origin, allowed).headers;
}
