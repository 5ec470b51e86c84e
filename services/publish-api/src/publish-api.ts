/** The publish API as a unit: routes mountable on a shared uWS app (server.ts makes a standalone server of it). */
import type { Bus } from '@herald/bus';
import { Gauge, createTracing, type Logger, type Registry } from '@herald/telemetry';
import { originAllowList, type App, type Readiness } from '@herald/uws';
import { createApiKeyCheck } from './http/api-keys.js';
import type { PublishApiConfig } from './config.js';
import { adminRoutes } from './admin/routes.js';
import { publishRoutes } from './publish/routes.js';
import { openApiRoute } from './openapi/route.js';
import { createPublishMetrics } from './metrics.js';
import { RateLimiter } from './http/rate-limit.js';
import { Inflight, mountRoutes } from './http/adapter.js';
import type { InboxStore } from '@herald/inbox';
import { createInboxService } from './inbox/service.js';
import { inboxRoutes } from './inbox/routes.js';
import { verifierOf } from './inbox/push.js';
import { subscriptionRulesOf } from '@herald/push';

/** What the publish API needs from its host process. */
export interface PublishApiDeps {
  readonly config: PublishApiConfig;
  readonly logger: Logger;
  readonly bus: Bus;
  /** The process's registry (shared with a gateway in the all-in-one mode). */
  readonly metrics: Registry;
  /** The inbox store to use (herald dev shares one with its gateway); default: memory on the memory bus, JetStream on NATS. */
  readonly inbox?: InboxStore;
}

/** The publish API's routes, not yet bound to an app. */
export interface PublishApi {
  /** Registers `/v1/publish`, `/v1/publish/batch`, `/v1/disconnect`, `/v1/presence`, `/v1/history`, `/v1/openapi.json` (no ops routes, no 404). */
  mount(app: App): void;
  /** Not ready while the bus is disconnected. */
  readiness(): Readiness;
  /** Resolves true once no request is in flight, false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean>;
  /** Closes what the routes opened themselves (the inbox's NATS connection). After `idle`. */
  close(): Promise<void>;
}

/**
 * herald_bus_connected, read at scrape time: nothing on the request path, no listener to release.
 * In `herald dev` the gateway registers the same gauge first (from status events); either reads the one bus.
 */
function watchBus(registry: Registry, bus: Bus): void {
  if (registry.getSingleMetric('herald_bus_connected') !== undefined) return;
  new Gauge({
    name: 'herald_bus_connected',
    help: '1 while the bus (NATS) connection is up, 0 while it is disconnected or closed (memory bus: always 1)',
    registers: [registry],
    collect() {
      this.set(bus.isConnected() ? 1 : 0);
    },
  });
}

/**
 * Builds the publish API over a bus. Mount it on an existing uWS app (the all-in-one
 * `herald dev` puts gateway and publish API on one port), or use startPublishApi (server.ts).
 */
export function createPublishApi(deps: PublishApiDeps): PublishApi {
  const { config, bus } = deps;
  const metrics = createPublishMetrics(deps.metrics);
  watchBus(deps.metrics, bus);
  const logger = deps.logger.child({ component: 'publish-api' });
  const inflight = new Inflight();
  const limits = { maxDataBytes: config.MAX_DATA_BYTES, maxTargets: config.MAX_TARGETS, maxBatch: config.MAX_BATCH };
  const inbox = createInboxService({ config, bus, logger, metrics: deps.metrics, ...(deps.inbox ? { store: deps.inbox } : {}) });
  const push = { vapidPublicKey: config.VAPID_PUBLIC_KEY, verifier: verifierOf(config), rules: subscriptionRulesOf(config) };
  const routes = [
    ...publishRoutes({ bus, limits, concurrency: config.PUBLISH_CONCURRENCY, metrics, inbox: () => inbox.store() }), ...adminRoutes(bus), openApiRoute(limits),
    ...inboxRoutes(inbox, push),
  ];
  const admission = {
    checkKey: createApiKeyCheck(config.API_KEYS),
    limiter: new RateLimiter(config.RATE_LIMIT_RPS, config.RATE_LIMIT_BURST),
    maxBodyBytes: config.MAX_BODY_BYTES,
    originAllowed: originAllowList(config.ALLOWED_ORIGINS),
  };
  return {
    mount: (app) => mountRoutes(app, routes, { logger, metrics, admission, inflight, tracing: createTracing(config.TRACING) }),
    readiness: () => (bus.isConnected() ? { ready: true } : { ready: false, reason: 'bus_disconnected' }),
    idle: (timeoutMs) => inflight.idle(timeoutMs),
    close: () => inbox.close(),
  };
}
