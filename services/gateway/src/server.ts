/** A standalone gateway node: its own uWS app with ops routes (startGatewayServer), and the full process role (runGateway). */
import { hostname } from 'node:os';
import { createTokenVerifier } from '@herald/auth';
import { openBusFromConfig } from '@herald/bus';
import { loadConfig } from '@herald/config';
import { createLogger, createMetricsRegistry, METRICS_CONTENT_TYPE } from '@herald/telemetry';
import { asApp, listen, loadUws, mountOpsRoutes, type App } from '@herald/uws';
import { gatewayConfigSchema, verifierConfigOf } from './config.js';
import { createGateway, type Gateway, type GatewayDeps } from './gateway.js';

/** A listening gateway node. */
export interface GatewayServer {
  readonly port: number;
  readonly app: App;
  readonly gateway: Gateway;
  /** Stops listening, closes the gateway (sockets, bus interest) and the app. Does not close the bus. */
  close(): Promise<void>;
}

/** Builds a gateway on its own uWS app with /healthz, /readyz, /metrics, listens, logs `listening` with the port. */
export async function startGatewayServer(deps: GatewayDeps & { readonly host: string; readonly port: number }): Promise<GatewayServer> {
  const app = asApp(loadUws().App());
  const gateway = createGateway(deps);
  gateway.mount(app);
  mountOpsRoutes(app, {
    readiness: () => gateway.readiness(),
    metrics: () => deps.metrics.metrics(),
    metricsContentType: METRICS_CONTENT_TYPE,
  });
  await gateway.start();
  const listening = await listen(app, deps.host, deps.port);
  deps.logger.info({ port: listening.port, host: deps.host, publicUrl: deps.config.PUBLIC_URL }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    port: listening.port,
    app,
    gateway,
    close: () =>
      (closing ??= (async () => {
        listening.stopListening();
        await gateway.close();
        app.close();
      })()),
  };
}

/**
 * The gateway process role: loadConfig → logger → bus → verifier → server. On SIGTERM or
 * SIGINT it drains (docs/protocol.md#server--client `reconnect`, then 1012), closes and exits 0.
 * Throws ConfigError on a bad configuration (the caller prints it).
 */
export async function runGateway(env: Readonly<Record<string, string | undefined>>): Promise<{ port: number; close(): Promise<void> }> {
  const config = loadConfig(gatewayConfigSchema, env);
  const nodeId = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.LOG_LEVEL, node: nodeId });
  const verifier = createTokenVerifier(verifierConfigOf(config)); // before the bus: a bad key fails fast
  const bus = await openBusFromConfig(config, nodeId, logger.child({ component: 'bus' }));
  if (bus.kind === 'memory') logger.warn({}, 'no NATS_URL: in-process memory bus; only publishers in this process reach these sockets');
  const metrics = createMetricsRegistry({ node: nodeId });
  let server: GatewayServer;
  try {
    server = await startGatewayServer({ config, logger, bus, verifier, metrics, nodeId, host: config.HOST, port: config.PORT });
  } catch (err) {
    await bus.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (drain: boolean): Promise<void> =>
    (stopping ??= (async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (drain) await server.gateway.drain();
      await server.close();
      await bus.close();
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received: draining');
    shutdown(true).then(
      () => {
        logger.info({}, 'exiting');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { port: server.port, close: () => shutdown(false) };
}
