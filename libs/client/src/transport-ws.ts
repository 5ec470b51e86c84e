/**
 * The WebSocket transport: the token in the `herald.bearer.<jwt>` subprotocol (PROTOCOL §1),
 * text frames of JSON. Works with the browser's WebSocket and the `ws` package.
 * @module
 */
import { parseFrame, retryAfterMs, type Transport, type TransportHandlers } from './transport.js';
import type { WebSocketConstructor } from './types.js';

const OPEN = 1;
/** RFC 6455: no close frame was received (network loss, refused upgrade). */
const ABNORMAL = 1006;

/** The response of a refused upgrade as the Node `ws` package hands it over (`unexpected-response`). */
interface RefusedUpgradeResponse {
  readonly statusCode?: number;
  readonly headers?: Record<string, string | string[] | undefined>;
  resume?(): void;
}

/** The part of the Node `ws` package's socket that exposes a refused upgrade (absent in browsers). */
interface NodeWsExtras {
  on(event: 'unexpected-response', listener: (req: unknown, res: RefusedUpgradeResponse) => void): void;
  terminate(): void;
}

function hasNodeExtras(ws: object): ws is NodeWsExtras {
  return !!(ws as Partial<NodeWsExtras>).terminate;
}

/** @internal Opens a WebSocket to `url` (already carrying `?since=&epoch=` when recovering). */
export function openWebSocket(Ctor: WebSocketConstructor, url: string, token: string | undefined, handlers: TransportHandlers): Transport {
  const protocols = token === undefined ? ['herald.v1'] : ['herald.v1', 'herald.bearer.' + token];
  const ws = new Ctor(url, protocols);
  let done = false;
  let status: number | undefined;
  let retryAfter: number | undefined;
  if (hasNodeExtras(ws)) {
    // Node's `ws` hands over the refused response (browsers hide it): read the status and
    // Retry-After, so a 503 from a node at its upgrade rate paces the retry. With a listener
    // `ws` no longer aborts by itself: terminate, which still ends in `close` (1006).
    ws.on('unexpected-response', (_req, res) => {
      status = res.statusCode;
      retryAfter = retryAfterMs(res.headers?.['retry-after']);
      res.resume?.();
      ws.terminate();
    });
  }
  ws.addEventListener('message', (ev) => {
    if (done) return;
    handlers.heard();
    const frame = typeof ev.data === 'string' ? parseFrame(ev.data) : undefined;
    if (frame !== undefined) handlers.frame(frame);
  });
  ws.addEventListener('error', (ev) => {
    // Browsers hide why an upgrade failed; `ws` says "Unexpected server response: 401".
    const m = /response: (\d{3})/.exec(ev.message ?? '');
    if (m?.[1] !== undefined) status = Number(m[1]);
  });
  ws.addEventListener('close', (ev) => {
    if (done) return;
    done = true;
    handlers.closed({ code: ev.code ?? ABNORMAL, reason: ev.reason ?? '', status, retryAfterMs: retryAfter });
  });
  return {
    kind: 'websocket',
    send(frame) {
      if (done || ws.readyState !== OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    close() {
      if (done) return;
      done = true;
      try {
        ws.close(1000);
      } catch {
        /* already closing */
      }
    },
  };
}
