/**
 * Operations endpoints every service serves (PROTOCOL §9): /healthz, /readyz, /metrics.
 * @module
 */
import { guardResponse, writeJson } from './http.js';
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
}

export function mountOpsRoutes(app: App, ops: OpsRoutes): void {
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
