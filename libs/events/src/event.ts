/**
 * The event model: every lifecycle event is `{ id, type, time, data }`, the same JSON on
 * the events stream and in a webhook body.
 * @module
 */
import { createHash } from 'node:crypto';

/** Every event type, in catalogue order (docs/events.md). */
export const EVENT_TYPES = [
  'user.online',
  'user.offline',
  'topic.occupied',
  'topic.vacated',
  'connection.opened',
  'connection.closed',
  'message.delivered',
  'message.read',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The `data` of each event type. */
export interface EventDataMap {
  'user.online': { readonly user: string };
  'user.offline': { readonly user: string };
  'topic.occupied': { readonly topic: string };
  'topic.vacated': { readonly topic: string };
  'connection.opened': { readonly user: string; readonly connection: string; readonly node: string };
  'connection.closed': { readonly user: string; readonly connection: string; readonly node: string; readonly code: number };
  'message.delivered': { readonly user: string; readonly channel: string; readonly seq: number };
  'message.read': { readonly user: string; readonly channel: string; readonly seq: number };
}

/** One event. `id` is unique per transition and stable across redeliveries: dedupe by it. */
export interface HeraldEvent<T extends EventType = EventType> {
  readonly id: string;
  readonly type: T;
  /** When the transition was decided, RFC 3339 UTC with ms. */
  readonly time: string;
  readonly data: EventDataMap[T];
}

/** Any event, discriminated by `type`. */
export type AnyEvent = { [T in EventType]: HeraldEvent<T> }[EventType];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/**
 * An event id from the parts that make a transition unique: `evt_` + 22 base64url characters
 * (132 bits of SHA-256). The same parts always give the same id, so a transition published
 * twice (a retry, a crash between writing state and publishing) carries one id.
 */
export function eventId(...parts: readonly (string | number)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(String(part)).update('\n');
  return 'evt_' + hash.digest('base64url').slice(0, 22);
}

/** Builds an event. */
export function makeEvent<T extends EventType>(type: T, id: string, data: EventDataMap[T], timeMs: number = Date.now()): HeraldEvent<T> {
  return { id, type, time: new Date(timeMs).toISOString(), data };
}

/** Parses an event received from the stream; `undefined` for anything that is not one (never throws). */
export function parseEvent(text: string): AnyEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['id'] !== 'string' || v['id'].length === 0 || v['id'].length > 200) return undefined;
  if (!isEventType(v['type']) || typeof v['time'] !== 'string' || Number.isNaN(Date.parse(v['time']))) return undefined;
  if (typeof v['data'] !== 'object' || v['data'] === null) return undefined;
  return value as AnyEvent;
}

/** ms since the Unix epoch of an event's `time`. */
export function eventTimeMs(event: HeraldEvent): number {
  return Date.parse(event.time);
}
