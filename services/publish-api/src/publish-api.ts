/** The publish API as a unit: routes mountable on a shared uWS app, or a standalone listening server. */
import type { Bus } from '@herald/bus';
import { METRICS_CONTENT_TYPE, type Logger, type Registry } from '@herald/telemetry';
import { asApp, listen, loadUws, mountOpsRoutes, type App, type Readiness } from '@herald/uws';
import { createApiKeyCheck } from './api-keys.js';
import type { PublishApiConfig } from './config.js';
import { adminRoutes } from './handlers/admin.js';
import { publishRoutes } from './handlers/publish.js';
import { createPublishMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { Inflight, mountNotFound, mountRoutes } from './server.js';

/** What the publish API needs from its host process. */
export interface PublishApiDeps {
  readonly config: PublishApiConfig;
  readonly logger: Logger;
  readonly bus: Bus;
  /** The process's registry (shared with a gateway in the all-in-one mode). */
  readonly metrics: Registry;
}

/** The publish API's routes, not yet bound to an app. */
export interface PublishApi {
  /** Registers `/v1/publish`, `/v1/publish/batch`, `/v1/disconnect`, `/v1/presence`, `/v1/history` (no ops routes, no 404). */
  mount(app: App): void;
  /** Not ready while the bus is disconnected. */
  readiness(): Readiness;
  /** Resolves true once no request is in flight, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
}

/**
 * Builds the publish API over a bus. Mount it on an existing uWS app (the all-in-one
 * `herald dev` puts gateway and publish API on one port), or use startPublishApi.
 */
export function createPublishApi(deps: PublishApiDeps): PublishApi {
  const { config, bus } = deps;
  const metrics = createPublishMetrics(deps.metrics);
  const logger = deps.logger.child({ component: 'publish-api' });
  const inflight = new Inflight();
  const routes = [
    ...publishRoutes({
      bus,
      limits: { maxDataBytes: config.MAX_DATA_BYTES, maxTargets: config.MAX_TARGETS, maxBatch: config.MAX_BATCH },
      concurrency: config.PUBLISH_CONCURRENCY,
      metrics,
    }),
    ...adminRoutes(bus),
  ];
  const admission = {
    checkKey: createApiKeyCheck(config.API_KEYS),
    limiter: new RateLimiter(config.RATE_LIMIT_RPS, config.RATE_LIMIT_BURST),
    maxBodyBytes: config.MAX_BODY_BYTES,
  };
  return {
    mount: (app) => mountRoutes(app, routes, { logger, metrics, admission, inflight }),
    readiness: () => (bus.isConnected() ? { ready: true } : { ready: false, reason: 'bus_disconnected' }),
    idle: (timeoutMs) => inflight.idle(timeoutMs),
  };
}

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
  const app = asApp(loadUws().App());
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
      })();
      return closed;
    },
  };
}
