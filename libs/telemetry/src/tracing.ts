/**
 * Optional OpenTelemetry tracing through `@opentelemetry/api` only: Herald starts spans, the
 * operator's SDK (registered before start, e.g. `node --import ./otel.mjs`) records and exports
 * them. With no SDK registered the API is a no-op. Off by default (`HERALD_TRACING=off`): then
 * nothing here runs at all.
 *
 * Parents are passed explicitly (a remote `traceparent`, or a span of ours), never through the
 * active context: no context manager is needed, and none is consulted on the hot path.
 * @module
 */
import {
  ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, isSpanContextValid, trace,
  type Attributes, type Context, type Span, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { formatTraceparent, type TraceParent } from './trace-context.js';

/** `HERALD_TRACING`: `off` (default) or `otel`. */
export type TracingMode = 'off' | 'otel';
export type TraceSpanKind = 'server' | 'producer' | 'consumer' | 'internal';
export type TraceAttributes = Readonly<Record<string, string | number | boolean>>;

/** A started span; `end` once. */
export interface TraceSpan {
  /** The span's trace id; undefined when it has no valid context (no SDK and no parent). */
  readonly traceId: string | undefined;
  /** The `traceparent` that makes a downstream span this span's child; undefined as for traceId. */
  readonly traceparent: string | undefined;
  /** The `tracestate` to pass on with `traceparent`. */
  readonly tracestate: string | undefined;
  setAttribute(key: string, value: string | number | boolean): void;
  /** A child span, started now. */
  child(name: string, kind: TraceSpanKind, attributes?: TraceAttributes): TraceSpan;
  /** Ends the span; an error marks it failed (its message only: never a payload). */
  end(error?: unknown): void;
}

/** A remote parent: a parsed `traceparent` and its `tracestate`. */
export interface RemoteParent {
  readonly parent: TraceParent;
  readonly tracestate?: string | undefined;
}

export interface Tracing {
  /** False when HERALD_TRACING is off: callers skip every span. */
  readonly enabled: boolean;
  /** A span child of `remote` (a new trace when undefined). */
  start(name: string, kind: TraceSpanKind, remote: RemoteParent | undefined, attributes?: TraceAttributes): TraceSpan;
}

const KINDS: Readonly<Record<TraceSpanKind, SpanKind>> = {
  server: SpanKind.SERVER, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER, internal: SpanKind.INTERNAL,
};

/** The instrumentation scope name spans are recorded under. */
export const TRACER_NAME = 'herald';

class OtelSpan implements TraceSpan {
  readonly #span: Span;
  readonly #tracer: Tracer;
  /** The span's context once read: null when invalid (no SDK and no parent). Read lazily: most spans never need it. */
  #sc: SpanContext | null | undefined;

  constructor(tracer: Tracer, span: Span) {
    this.#tracer = tracer;
    this.#span = span;
  }

  #context(): SpanContext | undefined {
    if (this.#sc === undefined) {
      const sc = this.#span.spanContext();
      this.#sc = isSpanContextValid(sc) ? sc : null;
    }
    return this.#sc ?? undefined;
  }

  get traceId(): string | undefined {
    return this.#context()?.traceId;
  }

  get traceparent(): string | undefined {
    const sc = this.#context();
    return sc === undefined ? undefined : formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags });
  }

  get tracestate(): string | undefined {
    const state = this.#context()?.traceState?.serialize();
    return state === undefined || state === '' ? undefined : state;
  }

  setAttribute(key: string, value: string | number | boolean): void {
    this.#span.setAttribute(key, value);
  }

  child(name: string, kind: TraceSpanKind, attributes?: TraceAttributes): TraceSpan {
    return startSpan(this.#tracer, name, kind, trace.setSpan(ROOT_CONTEXT, this.#span), attributes);
  }

  end(error?: unknown): void {
    if (error !== undefined) this.#span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : 'error' });
    this.#span.end();
  }
}

function startSpan(tracer: Tracer, name: string, kind: TraceSpanKind, parent: Context, attributes: TraceAttributes | undefined): OtelSpan {
  const options = attributes === undefined ? { kind: KINDS[kind] } : { kind: KINDS[kind], attributes: attributes as Attributes };
  return new OtelSpan(tracer, tracer.startSpan(name, options, parent));
}

/** The context holding a remote parent, or the root (a new trace). */
function remoteContext(remote: RemoteParent | undefined): Context {
  if (remote === undefined) return ROOT_CONTEXT;
  const { parent, tracestate } = remote;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId, spanId: parent.spanId, traceFlags: parent.flags, isRemote: true,
    ...(tracestate === undefined ? {} : { traceState: createTraceState(tracestate) }),
  });
}

class OtelTracing implements Tracing {
  readonly enabled = true;
  readonly #tracer: Tracer;

  constructor(version: string | undefined) {
    // A ProxyTracer: it finds the SDK's provider at the first span, even when registered after this.
    this.#tracer = trace.getTracer(TRACER_NAME, version);
  }

  start(name: string, kind: TraceSpanKind, remote: RemoteParent | undefined, attributes?: TraceAttributes): TraceSpan {
    return startSpan(this.#tracer, name, kind, remoteContext(remote), attributes);
  }
}

const NOOP_SPAN: TraceSpan = {
  traceId: undefined, traceparent: undefined, tracestate: undefined,
  setAttribute: () => undefined, child: () => NOOP_SPAN, end: () => undefined,
};

/** Tracing off: `start` returns a span that records nothing (callers check `enabled` first). */
export const TRACING_OFF: Tracing = { enabled: false, start: () => NOOP_SPAN };

/** The tracing of a process: `otel` starts spans through the OpenTelemetry API, `off` does nothing. */
export function createTracing(mode: TracingMode, version?: string): Tracing {
  return mode === 'otel' ? new OtelTracing(version) : TRACING_OFF;
}
