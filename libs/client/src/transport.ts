/**
 * The client's view of a transport: frames in, commands out, one close report. The
 * WebSocket and SSE transports implement it; the client never sees sockets or streams.
 * @module
 */
import type { TransportName } from './types.js';

/** @internal A decoded server frame (an object with an `op`); fields are checked where they are read. */
export interface InboundFrame {
  readonly op: string;
  readonly [field: string]: unknown;
}

/** @internal How a transport ended. */
export interface CloseInfo {
  /** WebSocket close code; 1006 for a dropped connection or stream; the SSE `close` event's code. */
  readonly code: number;
  readonly reason: string;
  /** HTTP status of a refused connection, when the transport could see it. */
  readonly status?: number | undefined;
  /** The refusal's `{"error":{"code"}}`, when readable. */
  readonly errorCode?: string | undefined;
  /** `Retry-After` of a refusal, in ms. */
  readonly retryAfterMs?: number | undefined;
}

/** @internal */
export interface TransportHandlers {
  /** Any sign of life (frames, SSE comments). */
  heard(): void;
  /** A frame; over SSE with the event id in force (the stream's position of every channel). */
  frame(frame: InboundFrame, eventId?: string): void;
  /** Called once, unless the client closed the transport itself. */
  closed(info: CloseInfo): void;
}

/** @internal */
export interface Transport {
  readonly kind: TransportName;
  /** Sends a command (WebSocket only); false when it could not be sent. */
  send(frame: object): boolean;
  /** Closes without reporting `closed`. Idempotent. */
  close(): void;
}

/** @internal `Retry-After` in ms when it holds delay-seconds (an HTTP date is rare from a gateway and ignored). */
export function retryAfterMs(header: string | string[] | null | undefined): number | undefined {
  const s = Number(Array.isArray(header) ? header[0] : header);
  return s > 0 && s < 1e6 ? s * 1000 : undefined;
}

/** @internal Parses a frame's JSON text; undefined unless it is an object with a string `op`. */
export function parseFrame(text: string): InboundFrame | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string') return v as InboundFrame;
  } catch {
    /* not JSON: ignored */
  }
  return undefined;
}
