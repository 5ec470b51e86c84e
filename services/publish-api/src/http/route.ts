/** A route of the publish API, as the uWS adapter (server.ts) and the unit tests see it. */
import type { Logger } from '@herald/telemetry';
import type { HttpResult } from './result.js';
import type { BusContext, RequestTrace } from './trace.js';

/** Per-request context: a child logger bound to the request id (and trace id). */
export interface RequestContext {
  readonly reqId: string;
  /** The trace id logged with the request (its span's, else the incoming `traceparent`'s); undefined when none. */
  readonly traceId?: string | undefined;
  /**
   * Starts the request's bus publish span (tracing on) and returns what each message it
   * publishes carries to the gateways; undefined when there is nothing to carry (the request
   * sent neither `x-request-id` nor `traceparent` and tracing is off). Absent in unit tests.
   */
  busContext?(messages: number): BusContext | undefined;
  readonly log: Logger;
  /**
   * Whether debug lines are written. Check it before `log.debug` on a hot path: reading
   * `log` creates the child logger, which costs more than the publish it would describe.
   */
  readonly debug: boolean;
}

/** What a handler receives: the parsed JSON body (POST) and the query string. */
export interface RouteInput {
  readonly body: unknown;
  readonly query: URLSearchParams;
  /** Values of the path's `:name` segments, in order, still URL-encoded (inbox routes). */
  readonly params?: readonly string[];
  /** The Authorization header, for routes that take a user token instead of an API key (`open` routes). */
  readonly authorization?: string;
}

export type RouteHandler = (input: RouteInput, ctx: RequestContext) => Promise<HttpResult>;

export interface Route {
  readonly path: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Label of `herald_publish_requests_total{route}`. */
  readonly name: string;
  /** Served without an API key and outside the rate limit (the OpenAPI document; routes that verify a user token themselves). */
  readonly open?: boolean;
  /** Called from browser pages on other origins: CORS headers and an OPTIONS preflight (http/cors.ts). */
  readonly cors?: boolean;
  /** Number of `:name` segments in `path` (handed over as `params`). */
  readonly params?: number;
  readonly handle: RouteHandler;
}

/**
 * A request's context. The child logger is made on first use: pino serializes a child's
 * bindings when it is created, a cost not worth paying on every request that logs nothing.
 * A class (not an object literal with a getter, which V8 builds on a slow path) because one
 * is made per request.
 */
class LazyRequestContext implements RequestContext {
  readonly reqId: string;
  readonly debug: boolean;
  readonly #logger: Logger;
  readonly #trace: RequestTrace | undefined;
  #log: Logger | undefined;

  constructor(logger: Logger, reqId: string, trace: RequestTrace | undefined) {
    this.#logger = logger;
    this.reqId = reqId;
    this.#trace = trace;
    this.debug = logger.isLevelEnabled('debug');
  }

  get traceId(): string | undefined {
    return this.#trace?.traceId;
  }

  get log(): Logger {
    if (this.#log === undefined) {
      const traceId = this.traceId;
      this.#log = this.#logger.child(traceId === undefined ? { reqId: this.reqId } : { reqId: this.reqId, traceId });
    }
    return this.#log;
  }

  busContext(messages: number): BusContext | undefined {
    return this.#trace?.busContext(messages);
  }
}

/** A request's context; `trace` when the request carries or records a trace (see RequestTrace). */
export function requestContext(logger: Logger, reqId: string, trace?: RequestTrace): RequestContext {
  return new LazyRequestContext(logger, reqId, trace);
}
