/** Runs the publish API as a process: config, logger, bus, server, and signal handling. */
import { hostname } from 'node:os';
import { loadConfig } from '@herald/config';
import { createLogger, createMetricsRegistry } from '@herald/telemetry';
import { publishApiConfigSchema } from './config.js';
import { openConfiguredBus } from './open-bus.js';
import { startPublishApi, type RunningPublishApi } from './publish-api.js';

/** A running publish API process. */
export interface PublishApiProcess {
  readonly port: number;
  /** Stops the server, closes the bus, removes the signal handlers (does not exit). */
  close(): Promise<void>;
}

// Headroom past SHUTDOWN_TIMEOUT_MS for closing the bus before the exit is forced.
const FORCED_EXIT_EXTRA_MS = 5000;

/**
 * loadConfig → createLogger → open the bus → startPublishApi, then on SIGTERM or SIGINT:
 * stop listening, finish in-flight requests, close the bus, exit 0. Throws ConfigError
 * on a bad environment.
 */
export async function runPublishApi(env: Readonly<Record<string, string | undefined>>): Promise<PublishApiProcess> {
  const config = loadConfig(publishApiConfigSchema, env);
  const node = config.NODE_ID ?? `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.LOG_LEVEL, node });
  const metrics = createMetricsRegistry({ node }); // not `service`: Prometheus adds its own label of that name
  const bus = await openConfiguredBus(config, logger, `publish-api ${node}`);
  const running: RunningPublishApi = await startPublishApi({ config, logger, bus, metrics, host: config.HOST, port: config.PORT }).catch(async (err: unknown) => {
    await bus.close();
    throw err;
  });
  let stopping: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await running.close();
      await bus.close();
    })();
    return stopping;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS + FORCED_EXIT_EXTRA_MS).unref();
    close().then(
      () => {
        logger.info('stopped');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { port: running.port, close };
}
