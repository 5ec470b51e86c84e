/**
 * History window options shared by both buses, and validation of history queries.
 * @module
 */
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, type HistoryQuery } from './bus.js';
import { BusError } from './errors.js';

/** How much history each channel keeps, and how long publish ids are remembered. */
export interface HistoryOptions {
  /** Messages kept per channel (JetStream `max_msgs_per_subject`); older ones are evicted. */
  readonly maxPerChannel: number;
  /** Messages older than this many ms are evicted (JetStream `max_age`). */
  readonly maxAgeMs: number;
  /** A publish id is remembered this many ms for deduplication (JetStream `duplicate_window`). */
  readonly dedupeWindowMs: number;
}

/** 100 messages per channel, one hour, a two-minute dedupe window (JetStream's default). */
export const DEFAULT_HISTORY_OPTIONS: Readonly<HistoryOptions> = Object.freeze({
  maxPerChannel: 100,
  maxAgeMs: 3_600_000,
  dedupeWindowMs: 120_000,
});

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`history.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Fills defaults and checks every value is a positive integer (TypeError otherwise: a programming error). */
export function resolveHistoryOptions(options?: Partial<HistoryOptions>): HistoryOptions {
  const o = { ...DEFAULT_HISTORY_OPTIONS, ...options };
  return Object.freeze({
    maxPerChannel: positiveInt('maxPerChannel', o.maxPerChannel),
    maxAgeMs: positiveInt('maxAgeMs', o.maxAgeMs),
    dedupeWindowMs: positiveInt('dedupeWindowMs', o.dedupeWindowMs),
  });
}

/** A validated history query: `since` ≥ 0, 1 ≤ `limit` ≤ MAX_HISTORY_LIMIT (larger limits are clamped). */
export function normalizeQuery(query?: HistoryQuery): { since: number; limit: number } {
  const since = query?.since ?? 0;
  const limit = query?.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isSafeInteger(since) || since < 0) throw new BusError('invalid', `history since must be a non-negative integer, got ${String(since)}`);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new BusError('invalid', `history limit must be a positive integer, got ${String(limit)}`);
  return { since, limit: Math.min(limit, MAX_HISTORY_LIMIT) };
}
