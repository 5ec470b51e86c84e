/**
 * A request's id and trace context: the incoming `x-request-id` (or a generated one), the
 * incoming W3C `traceparent`/`tracestate`, the request's span when tracing is on, and what its
 * publishes carry to the gateways (docs/operations.md#request-ids-and-trace-context).
 */
import { randomBytes } from 'node:crypto';
import type { MessageTrace } from '@herald/bus';
import {
  boundedTracestate, isValidRequestId, parseTraceparent, type RemoteParent, type TraceAttributes, type TraceSpan, type Tracing,
} from '@herald/telemetry';
import type { HttpRequest } from '@herald/uws';

// Generated request ids: a per-process random prefix and a counter; unique enough to grep logs by.
const REQ_ID_PREFIX = randomBytes(3).toString('hex');
let reqCounter = 0;

export function nextReqId(): string {
  reqCounter = (reqCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${REQ_ID_PREFIX}-${reqCounter.toString(36)}`;
}

/** The trace headers of a request, copied while uWS's HttpRequest is valid ('' when absent). */
export interface TraceHead {
  readonly requestId: string;
  readonly traceparent: string;
  readonly tracestate: string;
}

/** Reads `x-request-id` and `traceparent` (two lookups), and `tracestate` only next to a `traceparent`. */
export function readTraceHead(req: HttpRequest): TraceHead {
  const traceparent = req.getHeader('traceparent');
  return { requestId: req.getHeader('x-request-id'), traceparent, tracestate: traceparent === '' ? '' : req.getHeader('tracestate') };
}

/** The id a request answers with: the client's when valid (isValidRequestId), else a generated one. */
export function requestIdOf(head: TraceHead): string {
  return head.requestId !== '' && isValidRequestId(head.requestId) ? head.requestId : nextReqId();
}

/** What a request's publishes carry, and the bus publish span to end once the bus answered. */
export interface BusContext {
  readonly trace: MessageTrace;
  end(error?: unknown): void;
}

const NOTHING_TO_END = (): void => undefined;

/**
 * The trace side of one request. Made only when there is something to carry: the request sent
 * `x-request-id` or `traceparent`, or tracing is on. Otherwise the request costs nothing here.
 */
export class RequestTrace {
  readonly reqId: string;
  /** The request's span (tracing on); ended by the adapter with the answer's status. */
  readonly span: TraceSpan | undefined;
  /** The incoming trace context, when `traceparent` was valid. */
  readonly #remote: RemoteParent | undefined;
  readonly #traceparent: string | undefined;

  constructor(reqId: string, head: TraceHead, tracing: Tracing, spanName: string, attributes: TraceAttributes) {
    this.reqId = reqId;
    const parent = head.traceparent === '' ? undefined : parseTraceparent(head.traceparent);
    if (parent !== undefined) {
      this.#traceparent = head.traceparent;
      this.#remote = { parent, tracestate: head.tracestate === '' ? undefined : boundedTracestate(head.tracestate) };
    }
    // An invalid traceparent is ignored: with tracing on the span starts a new trace, else there is none.
    this.span = tracing.enabled ? tracing.start(spanName, 'server', this.#remote, attributes) : undefined;
  }

  /** The trace id for logs: the span's, else the incoming one's. */
  get traceId(): string | undefined {
    return this.span?.traceId ?? this.#remote?.parent.traceId;
  }

  /**
   * Starts the request's bus publish span (tracing on) and returns the context its messages
   * carry: the span's traceparent, so a gateway's fan-out span is its child; with tracing off
   * the incoming traceparent as received. One context per request, a batch's messages share it.
   */
  busContext(messages: number): BusContext {
    const span = this.span?.child('bus publish', 'producer', { 'messaging.operation.type': 'send', 'messaging.batch.message_count': messages });
    const traceparent = span?.traceparent ?? this.#traceparent;
    const tracestate = span?.tracestate ?? this.#remote?.tracestate;
    const trace: MessageTrace = traceparent === undefined
      ? { reqId: this.reqId }
      : tracestate === undefined ? { reqId: this.reqId, traceparent } : { reqId: this.reqId, traceparent, tracestate };
    return { trace, end: span === undefined ? NOTHING_TO_END : (error?: unknown) => span.end(error) };
  }
}
