/**
 * Small uWS HTTP helpers shared by the services: bounded body reading with abort
 * handling, JSON answers, the contract's error format, listening and closing.
 * @module
 */
import { errorBody } from '@herald/protocol';
import type { HttpResponse, HttpRequest, us_listen_socket } from 'uws-20-57';
import { loadUws } from './load.js';
import { LISTEN_EXCLUSIVE_PORT, type App } from './types.js';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: '200 OK', 202: '202 Accepted', 204: '204 No Content', 400: '400 Bad Request', 401: '401 Unauthorized',
  403: '403 Forbidden', 404: '404 Not Found', 405: '405 Method Not Allowed', 408: '408 Request Timeout',
  413: '413 Payload Too Large', 415: '415 Unsupported Media Type', 429: '429 Too Many Requests',
  500: '500 Internal Server Error', 503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return STATUS_TEXT[status] ?? `${status} Unknown`;
}

/** Tracks whether the client went away, so async handlers never touch a dead response. */
export interface ResponseGuard {
  readonly aborted: boolean;
}

/** Registers the mandatory abort handler and returns a guard to check before writing. */
export function guardResponse(res: HttpResponse, onAbort?: () => void): ResponseGuard {
  const guard = { aborted: false };
  res.onAborted(() => {
    guard.aborted = true;
    onAbort?.();
  });
  return guard;
}

export type HeaderList = readonly (readonly [string, string])[];

/** Writes a full JSON answer, corked (safe from async continuations). No-op when aborted. */
export function writeJson(res: HttpResponse, guard: ResponseGuard, status: number, body: unknown, headers: HeaderList = []): void {
  if (guard.aborted) return;
  const text = JSON.stringify(body);
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader('content-type', 'application/json');
    for (const [k, v] of headers) res.writeHeader(k, v);
    res.end(text);
  });
}

/** Writes the contract's error body `{"error":{"code","message"}}`. */
export function writeError(res: HttpResponse, guard: ResponseGuard, status: number, code: string, message: string, headers: HeaderList = []): void {
  writeJson(res, guard, status, errorBody(code, message), headers);
}

export class BodyTooLargeError extends Error {
  constructor() {
    super('body too large');
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Bytes of an oversized body read and dropped before the 413 is sent. A client that streams
 * its body (chunked, no Content-Length) is still writing when the limit is passed: closing
 * then makes its next write fail (EPIPE, reset) before it reads the answer. Past this much,
 * the answer goes out anyway and the close may cut the client off.
 */
export const OVERSIZED_BODY_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Reads a request body up to `maxBytes`. Past the limit it keeps reading and dropping the
 * rest (up to OVERSIZED_BODY_DRAIN_BYTES more) and then rejects with BodyTooLargeError, so
 * that the caller's 413 (and close) reach a client that has finished sending.
 * Call synchronously inside the route handler (uWS requires onData before returning).
 */
export function readBody(res: HttpResponse, guard: ResponseGuard, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || guard.aborted) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        chunks.length = 0; // dropped: only the count matters now
        if (isLast || size - maxBytes > OVERSIZED_BODY_DRAIN_BYTES) {
          failed = true;
          reject(new BodyTooLargeError());
        }
        return;
      }
      // uWS reuses the chunk's memory after the callback: copy it.
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
  });
}

/** Copies the request's headers: HttpRequest is only valid during the handler. */
export function copyHeaders(req: HttpRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = v;
  });
  return headers;
}

/** Remote address as text, preferring the proxied address (PROXY protocol) when present. */
export function remoteAddress(res: HttpResponse): string {
  const proxied = Buffer.from(res.getProxiedRemoteAddressAsText()).toString();
  return proxied.length > 0 ? proxied : Buffer.from(res.getRemoteAddressAsText()).toString();
}

/** The port is taken or cannot be bound: an operator's error, reported without a stack. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

export interface Listening {
  readonly port: number;
  /** Stops accepting new connections (existing sockets stay). */
  stopListening(): void;
}

/**
 * Listens on host:port (port 0 picks a free one) and resolves with the bound port. The
 * port is exclusive: a port already in use (say, by a forgotten `herald dev`) is an error,
 * not a silent share of the traffic.
 */
export function listen(app: App, host: string, port: number): Promise<Listening> {
  const uws = loadUws();
  return new Promise((resolve, reject) => {
    app.listen(host, port, LISTEN_EXCLUSIVE_PORT, (token: us_listen_socket | false) => {
      if (!token) {
        reject(new ListenError(`cannot listen on ${host}:${port}: the port is in use or not permitted (set HERALD_PORT)`));
        return;
      }
      let open = true;
      resolve({
        port: uws.us_socket_local_port(token as unknown as Parameters<typeof uws.us_socket_local_port>[0]),
        stopListening: () => {
          if (open) uws.us_listen_socket_close(token);
          open = false;
        },
      });
    });
  });
}

/** Normalizes an Origin or an allow-list entry for comparison (case, trailing slash). */
export function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

/**
 * The check of an `Origin` header against an allow-list (HERALD_ALLOWED_ORIGINS): undefined or
 * a list holding `*` allows any; a request without Origin (`''`) is not a browser's and passes.
 */
export function originAllowList(list: readonly string[] | undefined): (origin: string) => boolean {
  const allowed = list === undefined || list.includes('*') ? undefined : new Set(list.map(normalizeOrigin));
  return (origin) => origin.length === 0 || allowed === undefined || allowed.has(normalizeOrigin(origin));
}
