/** The uWS WebSocketBehavior of `/v1/ws`: options and thin handlers delegating to upgrade, lifecycle and inbound. */
import type { Behavior } from '@herald/uws';
import type { ConnSlot, ConnState } from '../conn/state.js';
import type { Inbound } from './inbound.js';
import type { Lifecycle } from './lifecycle.js';

/**
 * uWS closes a socket that sends a frame above maxPayloadLength itself, without a close
 * frame (the client sees 1006). The contract wants 1009, so uWS's limit sits above ours
 * and frames between the two reach decodeClientFrame, which answers 1009. Frames beyond
 * uWS's limit still get the abrupt close: the headroom bounds what one frame can cost.
 */
export function uwsPayloadLimit(maxFrameBytes: number): number {
  return Math.max(4 * maxFrameBytes, maxFrameBytes + 64 * 1024);
}

/**
 * uWS drops every send, the close frame included, once a socket's buffer passes uWS's
 * maxBackpressure (uWebSockets#1338: closeOnBackpressureLimit does not give our code either).
 * So uWS's limit sits well above WS_MAX_BACKPRESSURE_BYTES: our checks (every direct send,
 * and the 1 s sweep for fan-out traffic) close at our limit with 4008 while the close frame
 * still fits. Only a socket that takes more than this headroom within one sweep is cut by
 * uWS first (no 4008 then; the client reconnects and recovers all the same).
 */
export const UWS_BACKPRESSURE_HEADROOM_BYTES = 16 * 1024 * 1024;

/** permessage-deflate mode of `/v1/ws` (config WS_COMPRESSION). */
export type WsCompression = 'off' | 'shared' | 'dedicated';

/**
 * uWS CompressOptions values (uWS.DISABLED, SHARED_COMPRESSOR | SHARED_DECOMPRESSOR,
 * DEDICATED_COMPRESSOR_4KB | SHARED_DECOMPRESSOR), spelled out because this module does not
 * load uWS. uWS negotiates deflate only with clients that offer it; others get plain frames.
 * Frames are compressed only where a send or publish passes `compress = true`.
 */
export const UWS_COMPRESSION: Readonly<Record<WsCompression, number>> = { off: 0, shared: 1 | 256, dedicated: 146 | 256 };

export interface BehaviorOptions {
  /** permessage-deflate; default `off`. */
  readonly compression?: WsCompression;
  readonly maxFrameBytes: number;
  readonly maxBackpressureBytes: number;
  readonly idleTimeoutS: number;
  readonly upgrade: NonNullable<Behavior<ConnSlot>['upgrade']>;
  readonly lifecycle: Lifecycle;
  readonly inbound: Inbound;
  /** uWS `drain` (a socket's buffer shrank): conflation resumes paused sockets here. Absent: no drain handler. */
  readonly drained?: (st: ConnState) => void;
}

export function createBehavior(o: BehaviorOptions): Behavior<ConnSlot> {
  const { lifecycle, inbound, drained } = o;
  const behavior: Behavior<ConnSlot> = {
    compression: UWS_COMPRESSION[o.compression ?? 'off'],
    maxPayloadLength: uwsPayloadLimit(o.maxFrameBytes),
    maxBackpressure: o.maxBackpressureBytes + UWS_BACKPRESSURE_HEADROOM_BYTES,
    closeOnBackpressureLimit: false,
    idleTimeout: o.idleTimeoutS,
    sendPingsAutomatically: true,
    maxLifetime: 0,
    upgrade: o.upgrade,
    open: (ws) => lifecycle.opened(ws.getUserData().st, ws),
    message: (ws, data, isBinary) => inbound.onMessage(ws.getUserData().st, data, isBinary),
    close: (ws, code) => lifecycle.closed(ws.getUserData().st, code), // never send from close
  };
  // Only with conflation: otherwise uWS has no JavaScript to call on each drain.
  if (drained !== undefined) behavior.drain = (ws) => drained(ws.getUserData().st);
  return behavior;
}
