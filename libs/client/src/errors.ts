/**
 * HeraldError: what the `error` event carries. A string `code` (the wire's vocabulary where
 * there is one), and the close code, HTTP status and reaction when a connection ended.
 * @module
 */
import type { CloseReaction, HeraldErrorLike, TransportName } from './types.js';

/** Details of a HeraldError besides its code and message. */
export interface HeraldErrorDetails {
  readonly closeCode?: number | undefined;
  readonly status?: number | undefined;
  readonly reaction?: CloseReaction | undefined;
  readonly topic?: string | undefined;
  readonly transport?: TransportName | undefined;
  readonly cause?: unknown;
}

/**
 * An error reported by the client. `code` is the gateway's code (`forbidden`, `token_expired`,
 * `token_invalid`, ...), the close code's name (`connection_lost` for 1006, `draining` for
 * 1012, ...), or the client's own (`token_unavailable`, `token_expiring`).
 * @example
 * client.on('error', (e) => {
 *   if (e.closeCode === 4003) showSignedOut();
 * });
 */
export class HeraldError extends Error implements HeraldErrorLike {
  readonly code: string;
  /** The close code (WebSocket close frame, or the SSE `close` event; 1006 for a dropped connection). */
  declare readonly closeCode?: number;
  /** The HTTP status of a refused connection, when the transport could see it. */
  declare readonly status?: number;
  /** What the client does next (the contract's close-code table). */
  declare readonly reaction?: CloseReaction;
  /** The topic, for a refused subscription. */
  declare readonly topic?: string;
  declare readonly transport?: TransportName;

  constructor(code: string, message: string, details: HeraldErrorDetails = {}) {
    const { cause: _cause, ...fields } = details;
    super(message, details); // sets `cause` when given
    this.name = 'HeraldError';
    this.code = code;
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) (this as Record<string, unknown>)[k] = v;
  }
}
