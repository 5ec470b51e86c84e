/**
 * Loaded with `node --import` by the tracing scenario (tracing.ts): registers the OpenTelemetry
 * SDK's tracer provider, every span sampled and recorded, then dropped at its end (no exporter:
 * what is measured is Herald's spans and the SDK's recording, not an exporter's network).
 * @module
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

const drop: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [drop] }));
