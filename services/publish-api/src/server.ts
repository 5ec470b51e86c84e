/** A standalone publish API: its own uWS app with the ops routes and a 404, listening (the process role is run.ts). */
import { METRICS_CONTENT_TYPE } from '@herald/telemetry';
import { asApp, guardApp, listen, loadUws, mountOpsRoutes, type App } from '@herald/uws';
import { mountNotFound } from './http/adapter.js';
import { createPublishMetrics } from './metrics.js';
import { createPublishApi, type PublishApiDeps } from './publish-api.js';

/** A standalone publish API listening on its own port. */
export interface RunningPublishApi {
  readonly port: number;
  readonly app: App;
  /** Stops listening, lets in-flight requests finish (SHUTDOWN_TIMEOUT_MS), closes every socket. Leaves the bus open. */
  close(): Promise<void>;
}

/**
 * Makes a uWS app with the publish API, the ops routes (/healthz, /readyz, /metrics)
 * and a 404 for anything else, listens on host:port (0 picks a free port) and logs
 * `{ port }` with msg `listening`.
 */
export async function startPublishApi(deps: PublishApiDeps & { readonly host: string; readonly port: number }): Promise<RunningPublishApi> {
  const api = createPublishApi(deps);
  const app = guardApp(asApp(loadUws().App()), (err, where) => deps.logger.error({ err, where }, 'handler threw; contained'));
  let closing = false;
  api.mount(app);
  mountOpsRoutes(app, {
    readiness: () => (closing ? { ready: false, reason: 'draining' } : api.readiness()),
    metrics: () => deps.metrics.metrics(),
    metricsContentType: METRICS_CONTENT_TYPE,
    notFound: false, // its own, below: counted in the publish API's metrics
  });
  mountNotFound(app, { logger: deps.logger.child({ component: 'publish-api' }), metrics: createPublishMetrics(deps.metrics) });
  const listening = await listen(app, deps.host, deps.port);
  deps.logger.info({ port: listening.port, host: deps.host }, 'listening');
  let closed: Promise<void> | undefined;
  return {
    port: listening.port,
    app,
    close: () => {
      closed ??= (async () => {
        closing = true;
        listening.stopListening();
        const idle = await api.idle(deps.config.SHUTDOWN_TIMEOUT_MS);
        if (!idle) deps.logger.warn({ timeoutMs: deps.config.SHUTDOWN_TIMEOUT_MS }, 'requests still in flight at shutdown');
        app.close();
        await api.close();
      })();
      return closed;
    },
  };
}
