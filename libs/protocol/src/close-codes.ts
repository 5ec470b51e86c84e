/**
 * WebSocket close codes of the contract (docs/protocol.md#close-codes) and what a client does on each.
 * The gateway and the SDK import the same table, so they cannot disagree.
 * @module
 */

export const CloseCode = {
  Normal: 1000,
  UnsupportedData: 1003,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  InternalError: 1011,
  Draining: 1012,
  Overloaded: 1013,
  TokenExpired: 4001,
  Forbidden: 4003,
  SlowConsumer: 4008,
  TooManyConnections: 4009,
  RateLimited: 4029,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client does after a close: the SDK's state machine reads this table. */
export type CloseReaction = 'stop' | 'reconnect' | 'reconnect-slow' | 'new-token' | 'ask-app';

export const CLOSE_REACTIONS: Readonly<Record<CloseCode, CloseReaction>> = {
  1000: 'stop',
  1003: 'stop',
  1007: 'stop',
  1008: 'stop',
  1009: 'stop',
  1011: 'reconnect',
  1012: 'reconnect',
  1013: 'reconnect',
  4001: 'new-token',
  4003: 'ask-app',
  4008: 'reconnect',
  4009: 'stop',
  4029: 'reconnect-slow',
};

/**
 * Reaction to any close code, including ones outside the contract: abnormal closures
 * (1006, network loss) and unknown codes reconnect with backoff, which loses nothing.
 */
export function closeReaction(code: number): CloseReaction {
  return (CLOSE_REACTIONS as Readonly<Record<number, CloseReaction>>)[code] ?? 'reconnect';
}

/** RFC 6455 limits a close frame's reason to 123 bytes of UTF-8. */
export const MAX_CLOSE_REASON_BYTES = 123;
