/** Where a connection request carries its token: the bearer subprotocol, the Authorization header, or `?token=`. */

/** Prefix of the subprotocol that carries the token; never echoed back. */
export const BEARER_PROTOCOL_PREFIX = 'herald.bearer.';

/** The parts of a request that may carry a token (SSE requests have no subprotocol: ''). */
export interface TokenSources {
  /** `Sec-WebSocket-Protocol`. */
  readonly protocol: string;
  readonly authorization: string;
  /** Raw query string (after `?`). */
  readonly query: string;
}

/** The offered subprotocols of a `Sec-WebSocket-Protocol` header, in order. */
export function offeredProtocols(header: string): string[] {
  return header.length === 0 ? [] : header.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * The token, in the contract's order of preference: `Sec-WebSocket-Protocol:
 * herald.bearer.<jwt>`, then `Authorization: Bearer <jwt>`, then `?token=`.
 */
export function pickToken(head: TokenSources): string | undefined {
  for (const p of offeredProtocols(head.protocol)) {
    if (p.startsWith(BEARER_PROTOCOL_PREFIX) && p.length > BEARER_PROTOCOL_PREFIX.length) return p.slice(BEARER_PROTOCOL_PREFIX.length);
  }
  const m = /^bearer\s+(\S+)\s*$/i.exec(head.authorization);
  if (m?.[1] !== undefined) return m[1];
  const q = new URLSearchParams(head.query).get('token');
  return q !== null && q.length > 0 ? q : undefined;
}
