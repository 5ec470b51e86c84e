/**
 * A uWS app whose handlers cannot take the process down.
 *
 * uWS.js calls route and WebSocket handlers from native code. An exception thrown by a WebSocket
 * handler surfaces as an uncaught exception (the process exits); an HTTP handler that throws
 * before it answered or attached `onAborted` makes uWS terminate the process ("Returning from a
 * request handler without responding or attaching an abort handler is forbidden!"). Either way
 * one bug reachable by one request drops every connection of the node. Behind `guardApp`, every
 * handler registered on the app is wrapped: a throw goes to `onError` and stays with its request
 * or socket:
 * - an HTTP route or a WebSocket upgrade: answered `500` `internal` when it was not answered yet
 *   (the synchronous part of Herald's handlers never starts a streamed answer; one that already
 *   answered keeps its answer);
 * - a WebSocket `open` or `message`: the socket is closed with 1011 (internal error);
 * - `close`, `drain` and the other notifications: reported only.
 * A handler that does not throw costs one more function call.
 * @module
 */
import { errorBody } from '@herald/protocol';
import { statusLine } from './http.js';
import type { App, HttpRequest, HttpResponse, WebSocket, WebSocketBehavior, us_socket_context_t } from './types.js';

/** Where a contained exception came from, for the log line: e.g. `GET /v1/stream`, `ws message /v1/ws`. */
export type HandlerErrorReporter = (err: unknown, where: string) => void;

const INTERNAL_BODY = JSON.stringify(errorBody('internal', 'internal error'));
/** WebSocket close code 1011: the server met an unexpected condition. */
const WS_INTERNAL_ERROR = 1011;

const HTTP_METHODS = ['get', 'post', 'options', 'del', 'patch', 'put', 'head', 'connect', 'trace', 'any'] as const;
type HttpMethod = (typeof HTTP_METHODS)[number];
type HttpHandler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

/** Answers 500 unless the response was answered or aborted already (uWS then throws on access). */
function answerInternal(res: HttpResponse): void {
  try {
    res.cork(() => {
      res.writeStatus(statusLine(500)).writeHeader('content-type', 'application/json').end(INTERNAL_BODY);
    });
  } catch {
    // answered or aborted already: nothing to add
  }
}

function closeInternal(ws: WebSocket<unknown>): void {
  try {
    ws.end(WS_INTERNAL_ERROR, 'internal error');
  } catch {
    // closed already
  }
}

/** Wraps the app's route and WebSocket registration so every handler is contained (see the module doc). Returns the same app. */
export function guardApp(app: App, onError: HandlerErrorReporter): App {
  for (const method of HTTP_METHODS) {
    const register = (app[method] as (pattern: string, handler: HttpHandler) => App).bind(app);
    const label = method === 'del' ? 'DELETE' : method.toUpperCase();
    (app as unknown as Record<HttpMethod, (pattern: string, handler: HttpHandler) => App>)[method] = (pattern, handler) => {
      const where = `${label} ${pattern}`;
      register(pattern, (res, req) => {
        try {
          const r = handler(res, req);
          // uWS ignores a returned promise; a rejected one would be unhandled: contain it too.
          if (r instanceof Promise) r.catch((err: unknown) => onError(err, where));
        } catch (err) {
          onError(err, where);
          answerInternal(res);
        }
      });
      return app;
    };
  }
  const registerWs = app.ws.bind(app);
  app.ws = <T>(pattern: string, behavior: WebSocketBehavior<T>) => {
    registerWs(pattern, guardBehavior(pattern, behavior, onError));
    return app;
  };
  return app;
}

function guardBehavior<T>(pattern: string, b: WebSocketBehavior<T>, onError: HandlerErrorReporter): WebSocketBehavior<T> {
  const guarded: WebSocketBehavior<T> = { ...b };
  const { upgrade, open, message, close, drain, dropped, ping, pong, subscription } = b;
  if (upgrade) {
    guarded.upgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
      try {
        upgrade(res, req, context);
      } catch (err) {
        onError(err, `ws upgrade ${pattern}`);
        answerInternal(res);
      }
    };
  }
  if (open) {
    guarded.open = (ws) => {
      try {
        open(ws);
      } catch (err) {
        onError(err, `ws open ${pattern}`);
        closeInternal(ws as WebSocket<unknown>);
      }
    };
  }
  if (message) {
    guarded.message = (ws, data, isBinary) => {
      try {
        message(ws, data, isBinary);
      } catch (err) {
        onError(err, `ws message ${pattern}`);
        closeInternal(ws as WebSocket<unknown>);
      }
    };
  }
  if (close) guarded.close = reportOnly(close, `ws close ${pattern}`, onError);
  if (drain) guarded.drain = reportOnly(drain, `ws drain ${pattern}`, onError);
  if (dropped) guarded.dropped = reportOnly(dropped, `ws dropped ${pattern}`, onError);
  if (ping) guarded.ping = reportOnly(ping, `ws ping ${pattern}`, onError);
  if (pong) guarded.pong = reportOnly(pong, `ws pong ${pattern}`, onError);
  if (subscription) guarded.subscription = reportOnly(subscription, `ws subscription ${pattern}`, onError);
  return guarded;
}

function reportOnly<A extends unknown[]>(fn: (...args: A) => void, where: string, onError: HandlerErrorReporter): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch (err) {
      onError(err, where);
    }
  };
}
