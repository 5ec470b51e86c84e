/**
 * Operations endpoints every service serves (PROTOCOL §9): /healthz, /readyz, /metrics.
 * @module
 */
import { guardResponse, writeError, writeJson } from './http.js';
import type { App } from './types.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready (`draining`, `bus_disconnected`, `canary_failed`, ...). */
  readonly reason?: string;
}

export interface OpsRoutes {
  /** Combined readiness of every part running in this process. */
  readonly readiness: () => Readiness;
  /** Prometheus text. */
  readonly metrics: () => Promise<string>;
  readonly metricsContentType: string;
  /**
   * Answer every route nothing else claims with the JSON 404 of the error catalogue
   * (`not_found`). Default true; false when the caller mounts its own `/*` (uWS aborts the
   * process on a second handler for the same pattern).
   */
  readonly notFound?: boolean;
}

/**
 * /healthz, /readyz, /metrics and, unless `notFound` is false, the catch-all 404. uWS
 * prefers static and parametric routes (and WebSocket upgrades) to the `/*` wildcard
 * whatever the registration order, so the catch-all may come before the other routes.
 */
export function mountOpsRoutes(app: App, ops: OpsRoutes): void {
  if (ops.notFound !== false) {
    app.any('/*', (res) => {
      writeError(res, guardResponse(res), 404, 'not_found', 'no such route');
    });
  }
  app.get('/healthz', (res) => {
    writeJson(res, guardResponse(res), 200, { status: 'ok' });
  });
  app.get('/readyz', (res) => {
    const r = ops.readiness();
    writeJson(res, guardResponse(res), r.ready ? 200 : 503, r.ready ? { status: 'ready' } : { status: 'not_ready', reason: r.reason ?? 'unknown' });
  });
  app.get('/metrics', (res) => {
    const guard = guardResponse(res);
    ops.metrics().then(
      (text) => {
        if (guard.aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK').writeHeader('content-type', ops.metricsContentType).end(text);
        });
      },
      () => writeJson(res, guard, 500, { error: { code: 'internal', message: 'metrics unavailable' } }),
    );
  });
}
