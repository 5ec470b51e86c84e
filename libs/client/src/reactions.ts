/**
 * What to do when a transport ends: the close-code table of @herald/protocol (bundled into
 * the SDK, so gateway and SDK cannot disagree), extended to refused connections whose HTTP
 * status the transport could see (SSE always; `ws` in Node; never a browser's WebSocket).
 * @module
 */
import { closeReaction } from '@herald/protocol';
import type { SseKit } from './sse-kit.js';
import type { CloseInfo } from './transport.js';
import type { CloseReaction, TransportName } from './types.js';

/** @internal The decision and the error code reported with it. */
export interface Decision {
  readonly reaction: CloseReaction;
  readonly code: string;
}

const CLOSE_CODE_NAMES: Readonly<Record<number, string>> = {
  1000: 'normal', 1003: 'unsupported_data', 1006: 'connection_lost', 1007: 'invalid_payload', 1008: 'policy_violation',
  1009: 'message_too_big', 1011: 'internal', 1012: 'draining', 1013: 'overloaded', 4001: 'token_expired', 4003: 'forbidden',
  4008: 'slow_consumer', 4009: 'too_many_connections', 4029: 'rate_limited',
};

/**
 * @internal A refusal (HTTP status) or a close (code). Over WebSocket every refusal but 401
 * reconnects, as in a browser, which cannot see the status: repeated failures then move
 * the client to SSE, where statuses are read (403 asks the app, 429 `too_many_connections` stops).
 */
export function decide(info: CloseInfo, transport: TransportName, sse?: SseKit): Decision {
  const status = info.status;
  if (status === undefined) return { reaction: closeReaction(info.code), code: CLOSE_CODE_NAMES[info.code] ?? 'closed' };
  const code = info.errorCode ?? `http_${status}`;
  if (status === 401) return { reaction: 'new-token', code };
  return { reaction: transport === 'sse' && sse ? sse.reaction(status, info.errorCode) : 'reconnect', code };
}
