/**
 * The SSE fallback (PROTOCOL §6): `GET /v1/sse?topics=a,b` read with fetch streaming, in
 * browsers and in Node alike. fetch rather than EventSource because it shows why a stream
 * was refused (status and error code: 401 means a new token, 403 a forbidden topic), and lets
 * the client own reconnection (its backoff, its token, its `Last-Event-ID`).
 * Changing topics or token reopens the stream quietly: the client sees the new `welcome`,
 * not a close, and the event id makes the new stream resume where the old one stopped.
 * @module
 */
import { sseParser } from './sse-parser.js';
import { parseFrame, retryAfterMs, type CloseInfo, type Transport, type TransportHandlers } from './transport.js';
import type { FetchLike } from './types.js';

const ABNORMAL = 1006;

/** @internal One stream request: the URL with its query, and headers. */
export interface SseRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
}

/** @internal */
export interface SseTransport extends Transport {
  /** Replaces the stream with a new request (new topics, token or position). */
  reopen(request: SseRequest): void;
}

/**
 * @internal The request for `topics` from `lastEventId`. `query` puts token and id in the URL
 * (a simple cross-origin GET, no preflight, as EventSource does); `header` uses
 * `Authorization` and `Last-Event-ID`.
 */
export function sseRequest(endpoint: string, topics: readonly string[], token: string | undefined, lastEventId: string | undefined, tokenIn: 'query' | 'header'): SseRequest {
  const url = new URL(endpoint);
  const q = url.searchParams;
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (topics[0] !== undefined) q.set('topics', topics.join(','));
  if (token !== undefined) {
    if (tokenIn === 'query') q.set('token', token);
    else headers['authorization'] = 'Bearer ' + token;
  }
  if (lastEventId !== undefined) {
    if (tokenIn === 'query') q.set('lastEventId', lastEventId);
    else headers['last-event-id'] = lastEventId;
  }
  return { url: url.href, headers };
}

async function refusal(res: Response): Promise<CloseInfo> {
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(await res.text()) as { error?: typeof error }).error;
  } catch {
    /* not the contract's error body */
  }
  return {
    code: ABNORMAL,
    reason: typeof error?.message === 'string' ? error.message : 'HTTP ' + res.status,
    status: res.status,
    errorCode: typeof error?.code === 'string' ? error.code : undefined,
    retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
  };
}

/** @internal Opens the stream. `handlers.closed` reports its end: refused, cut, or an SSE `close` event. */
export function openSse(fetchFn: FetchLike, first: SseRequest, handlers: TransportHandlers): SseTransport {
  let ctrl: AbortController | undefined;
  let gen = 0;
  let done = false;

  const start = (request: SseRequest): void => {
    ctrl?.abort();
    const mine = ++gen;
    const c = (ctrl = new AbortController());
    const current = (): boolean => !done && mine === gen;
    const finish = (info: CloseInfo): void => {
      if (!current()) return;
      done = true;
      c.abort();
      handlers.closed(info);
    };
    void read(fetchFn, request, c.signal, current, handlers).then(finish, (err: unknown) => finish({ code: ABNORMAL, reason: String(err) }));
  };

  start(first);
  return {
    kind: 'sse',
    send: () => false,
    reopen: (request) => {
      if (!done) start(request);
    },
    close() {
      done = true;
      ctrl?.abort();
    },
  };
}

async function read(fetchFn: FetchLike, request: SseRequest, signal: AbortSignal, current: () => boolean, handlers: TransportHandlers): Promise<CloseInfo> {
  const res = await fetchFn(request.url, { headers: request.headers, signal, cache: 'no-store' });
  if (!res.ok || res.body === null) return refusal(res);
  let ended: CloseInfo | undefined;
  const push = sseParser(
    (ev) => {
      if (!current()) return;
      handlers.heard();
      const frame = parseFrame(ev.data);
      if (frame === undefined) return;
      // `event: close` comes just before the server ends the stream (e.g. 4003): it is the close code.
      if (frame.op === 'close') ended = { code: typeof frame['code'] === 'number' ? frame['code'] : ABNORMAL, reason: typeof frame['reason'] === 'string' ? frame['reason'] : '' };
      else handlers.frame(frame, ev.id);
    },
    () => {
      if (current()) handlers.heard();
    },
  );
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    while (ended === undefined && current()) {
      const chunk = await reader.read();
      if (chunk.done) break;
      push(decoder.decode(chunk.value, { stream: true }));
    }
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  return ended ?? { code: ABNORMAL, reason: 'stream ended' };
}
