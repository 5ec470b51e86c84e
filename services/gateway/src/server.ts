/** A standalone gateway node: its own uWS app with ops routes, listening (the process role is run.ts). */
import { METRICS_CONTENT_TYPE } from '@herald/telemetry';
import { asApp, guardApp, listen, loadUws, mountOpsRoutes, type App } from '@herald/uws';
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
  const app = guardApp(asApp(loadUws().App()), (err, where) => deps.logger.error({ err, where }, 'handler threw; contained'));
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
