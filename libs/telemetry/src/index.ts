/**
 * @herald/telemetry: structured logs, Prometheus metrics, request ids, trace context and optional OpenTelemetry spans.
 * @module
 */
export { createLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LevelWithSilent, LoggerOptions } from './logger.js';
export { createMetricsRegistry, METRICS_CONTENT_TYPE, Registry, Counter, Gauge, Histogram } from './metrics.js';
export { MAX_REQUEST_ID_CHARS, MAX_TRACESTATE_CHARS, isValidRequestId, parseTraceparent, formatTraceparent, boundedTracestate } from './trace-context.js';
export type { TraceParent } from './trace-context.js';
export { createTracing, TRACING_OFF, TRACER_NAME } from './tracing.js';
export type { Tracing, TracingMode, TraceSpan, TraceSpanKind, TraceAttributes, RemoteParent } from './tracing.js';
