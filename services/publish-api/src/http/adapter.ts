/** The uWS HTTP adapter: copy the request head, admit, read the body with a limit, run a route, write its result. */
import { TRACING_OFF, type Logger, type TraceSpan, type Tracing } from '@herald/telemetry';
import { BodyTooLargeError, guardResponse, readBody, statusLine, type App, type HttpRequest, type HttpResponse, type ResponseGuard } from '@herald/uws';
import { admit, bodyTooLarge, parseJsonBody, type AdmissionDeps, type RequestHead } from './admission.js';
import { corsVerdict } from './cors.js';
import { errorResult, failureResult, type HeaderPairs, type HttpResult } from './result.js';
import type { PublishMetrics } from '../metrics.js';
import { requestContext, type RequestContext, type Route } from './route.js';
import { RequestTrace, readTraceHead, requestIdOf } from './trace.js';

export interface ServerDeps {
  readonly logger: Logger;
  readonly metrics: PublishMetrics;
  readonly admission: AdmissionDeps;
  readonly inflight: Inflight;
  /** HERALD_TRACING; default off. */
  readonly tracing?: Tracing;
}

/** Counts requests being handled, so a shutdown can wait for them. */
export class Inflight {
  #count = 0;
  readonly #waiters = new Set<() => void>();

  get count(): number {
    return this.#count;
  }

  begin(): void {
    this.#count++;
  }

  end(): void {
    this.#count--;
    if (this.#count === 0) for (const w of this.#waiters) w();
  }

  /** Resolves true once no request is in flight, false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(onIdle);
        resolve(v);
      };
      const onIdle = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(onIdle);
    });
  }
}

const NO_QUERY: URLSearchParams = new URLSearchParams();
const ANY_ORIGIN = (): boolean => true;

function readHead(req: HttpRequest): RequestHead {
  return {
    method: req.getMethod().toUpperCase(),
    authorization: req.getHeader('authorization'),
    contentType: req.getHeader('content-type'),
    contentLength: req.getHeader('content-length'),
  };
}

interface Exchange {
  readonly res: HttpResponse;
  readonly guard: ResponseGuard;
  readonly routeName: string;
  readonly ctx: RequestContext;
  readonly started: number;
  /** The request's span when tracing is on; ended here with the status. */
  readonly span: TraceSpan | undefined;
}

/**
 * Serializes a body (undefined: an answer without one, e.g. 204); a value JSON.stringify cannot
 * take (too deep) becomes a 500 rather than an unhandled rejection.
 */
function serialize(ctx: RequestContext, result: HttpResult): { result: HttpResult; text: string | undefined } {
  if (result.body === undefined) return { result, text: undefined };
  try {
    return { result, text: JSON.stringify(result.body) };
  } catch (err) {
    const fallback = internalError(ctx, err);
    return { result: fallback, text: JSON.stringify(fallback.body) };
  }
}

function respond(metrics: PublishMetrics, ex: Exchange, answer: HttpResult): void {
  const { res, guard, ctx } = ex;
  const { result, text } = serialize(ctx, answer);
  const status = result.status;
  metrics.countRequest(ex.routeName, status);
  if (ex.span !== undefined) {
    ex.span.setAttribute('http.response.status_code', status);
    ex.span.end(status >= 500 ? new Error(result.code ?? 'internal') : undefined);
  }
  if (status >= 500) ctx.log.warn({ route: ex.routeName, status, code: result.code, ms: msSince(ex.started) }, 'request failed');
  else if (status >= 400 && ctx.debug) ctx.log.debug({ route: ex.routeName, status, code: result.code, ms: msSince(ex.started) }, 'request refused');
  if (guard.aborted) {
    if (ctx.debug) ctx.log.debug({ route: ex.routeName, status }, 'client went away before the answer');
    return;
  }
  res.cork(() => {
    res.writeStatus(statusLine(status));
    if (text !== undefined) res.writeHeader('content-type', 'application/json');
    res.writeHeader('x-request-id', ctx.reqId);
    if (result.headers !== undefined) for (const [k, v] of result.headers) res.writeHeader(k, v);
    if (text === undefined) res.end(undefined, result.close === true); // no body (204)
    else res.end(text, result.close === true);
  });
}

const msSince = (started: number): number => Math.round(performance.now() - started);

function internalError(ctx: RequestContext, err: unknown): HttpResult {
  ctx.log.error({ err }, 'unexpected error');
  return errorResult('internal', 'internal error');
}

function handler(route: Route, deps: ServerDeps): (res: HttpResponse, req: HttpRequest) => void {
  const tracing = deps.tracing ?? TRACING_OFF;
  return (res, req) => {
    // HttpRequest is only valid during this call: copy what we need first.
    const head = readHead(req);
    const rawQuery = req.getQuery() ?? '';
    // Most requests (every publish) have no query: share one empty, never-mutated instance.
    const query = rawQuery === '' ? NO_QUERY : new URLSearchParams(rawQuery);
    const params = route.params === 0 || route.params === undefined ? undefined : Array.from({ length: route.params }, (_, i) => req.getParameter(i) ?? '');
    const origin = route.cors === true ? req.getHeader('origin') : undefined;
    const traceHead = readTraceHead(req);
    const reqId = requestIdOf(traceHead);
    // Nothing more per request unless it sent a request id or trace context, or tracing is on.
    const trace = traceHead.requestId !== '' || traceHead.traceparent !== '' || tracing.enabled
      ? new RequestTrace(reqId, traceHead, tracing, `${head.method} ${route.path}`, { 'http.request.method': head.method, 'http.route': route.path })
      : undefined;
    let reading = false;
    let ended = false;
    const endOnce = (): void => {
      if (!ended) deps.inflight.end();
      ended = true;
    };
    // An abort while the body is read leaves readBody pending forever: stop counting it.
    const guard = guardResponse(res, () => {
      if (reading) endOnce();
    });
    const ex: Exchange = { res, guard, routeName: route.name, ctx: requestContext(deps.logger, reqId, trace), started: performance.now(), span: trace?.span };
    deps.inflight.begin();
    let extraHeaders: HeaderPairs | undefined;
    const finish = (answer: HttpResult): void => {
      reading = false;
      const result = extraHeaders === undefined ? answer : { ...answer, headers: [...(answer.headers ?? []), ...extraHeaders] };
      try {
        respond(deps.metrics, ex, result);
      } finally {
        endOnce();
      }
    };
    const run = (body: unknown): void => {
      route.handle(params === undefined && route.open !== true ? { body, query } : { body, query, ...(params ? { params } : {}), authorization: head.authorization }, ex.ctx).then(finish, (err: unknown) => finish(internalError(ex.ctx, err)));
    };
    if (origin !== undefined) {
      const cors = corsVerdict(route, head.method, origin, deps.admission.originAllowed ?? ANY_ORIGIN);
      if ('answer' in cors) return finish(cors.answer);
      extraHeaders = cors.headers;
    }
    const admission = admit(head, route, deps.admission);
    if (!admission.ok) return finish(admission.result);
    if (route.method !== 'POST') return run(undefined);
    reading = true;
    // onData must be attached before this handler returns (uWS requirement).
    readBody(res, guard, deps.admission.maxBodyBytes).then(
      (buf) => {
        reading = false;
        const body = parseJsonBody(buf);
        if (!body.ok) finish(failureResult(body));
        else run(body.value);
      },
      (err: unknown) => finish(err instanceof BodyTooLargeError ? bodyTooLarge(deps.admission.maxBodyBytes) : internalError(ex.ctx, err)),
    );
  };
}

/** Registers every route on `app` with `any()`, so a wrong method answers 405 instead of falling through. */
export function mountRoutes(app: App, routes: readonly Route[], deps: ServerDeps): void {
  for (const route of routes) app.any(route.path, handler(route, deps));
}

/** The catch-all 404 of a standalone publish API (not mounted when sharing an app). */
export function mountNotFound(app: App, deps: Pick<ServerDeps, 'logger' | 'metrics'>): void {
  app.any('/*', (res, req) => {
    const reqId = requestIdOf(readTraceHead(req));
    const guard = guardResponse(res);
    const ex: Exchange = { res, guard, routeName: 'unknown', ctx: requestContext(deps.logger, reqId), started: performance.now(), span: undefined };
    respond(deps.metrics, ex, errorResult('not_found', 'no such route'));
  });
}
