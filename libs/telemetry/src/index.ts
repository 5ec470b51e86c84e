/**
 * @herald/telemetry: structured logs and Prometheus metrics.
 * @module
 */
export { createLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LevelWithSilent, LoggerOptions } from './logger.js';
export { createMetricsRegistry, METRICS_CONTENT_TYPE, Registry, Counter, Gauge, Histogram } from './metrics.js';
