/** The upgrade request, copied out of uWS's stack-allocated HttpRequest, and the pure choices made from it. */
import { MAX_EPOCH_CHARS } from '@herald/protocol';
import { remoteAddress, type HttpRequest, type HttpResponse } from '@herald/uws';
import { offeredProtocols } from '../conn/token.js';

/** The subprotocol the server selects (docs/protocol.md#connecting). */
export const PROTOCOL_V1 = 'herald.v1';

/** Everything the upgrade needs after the handler returns. */
export interface UpgradeHead {
  readonly key: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly origin: string;
  readonly authorization: string;
  /** Raw query string (after `?`), may hold `token`, `since`, `epoch`. */
  readonly query: string;
  readonly ip: string;
}

/** Copies what the upgrade needs: `req` is only valid during the synchronous handler. */
export function readUpgradeHead(req: HttpRequest, res: HttpResponse): UpgradeHead {
  return {
    key: req.getHeader('sec-websocket-key'),
    protocol: req.getHeader('sec-websocket-protocol'),
    extensions: req.getHeader('sec-websocket-extensions'),
    origin: req.getHeader('origin'),
    authorization: req.getHeader('authorization'),
    query: req.getQuery() ?? '',
    ip: remoteAddress(res),
  };
}

/** `herald.v1` when the client offered it, else none. The bearer protocol is never selected. */
export function selectProtocol(head: Pick<UpgradeHead, 'protocol'>): string {
  return offeredProtocols(head.protocol).includes(PROTOCOL_V1) ? PROTOCOL_V1 : '';
}

/** `?since=&epoch=` of a reconnect: undefined without `since`; `valid: false` when `since` is not a seq. */
export type ResumeRequest = { readonly valid: true; readonly since: number; readonly epoch: string | undefined } | { readonly valid: false };

/** `?inbox=<seq>`: the last inbox seq the client holds (docs/protocol.md#inbox); 0 when absent or not a seq. */
export function parseInboxAfter(query: string): number {
  const raw = new URLSearchParams(query).get('inbox');
  return raw !== null && /^\d{1,16}$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : 0;
}

export function parseResume(query: string): ResumeRequest | undefined {
  const params = new URLSearchParams(query);
  const raw = params.get('since');
  if (raw === null) return undefined;
  const since = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  const epoch = params.get('epoch') ?? undefined;
  if (!Number.isSafeInteger(since) || (epoch !== undefined && (epoch.length === 0 || epoch.length > MAX_EPOCH_CHARS))) return { valid: false };
  return { valid: true, since, epoch };
}
