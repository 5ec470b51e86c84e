/** The publish API process role: config → the shared role runner (libs/runtime) → a standalone publish API server. */
import { loadConfig } from '@herald/config';
import { FORCED_EXIT_HEADROOM_MS, runRole, type RunningRole } from '@herald/runtime';
import { publishApiConfigSchema } from './config.js';
import { startPublishApi } from './server.js';

/** A running publish API process. */
export type PublishApiProcess = RunningRole;

/**
 * loadConfig → runRole: node id, logger, metrics, bus, then the server. On SIGTERM or SIGINT:
 * stop listening, finish in-flight requests (SHUTDOWN_TIMEOUT_MS), close the bus, exit 0.
 * Throws ConfigError on a bad environment.
 */
export async function runPublishApi(env: Readonly<Record<string, string | undefined>>): Promise<PublishApiProcess> {
  const config = loadConfig(publishApiConfigSchema, env);
  return runRole({
    config,
    busName: (nodeId) => `publish-api ${nodeId}`,
    warnMemoryBus: true,
    drainOnInterrupt: true,
    forcedExitMs: config.SHUTDOWN_TIMEOUT_MS + FORCED_EXIT_HEADROOM_MS,
    start: async ({ logger, metrics, bus }) => {
      const server = await startPublishApi({ config, logger, bus, metrics, host: config.HOST, port: config.PORT });
      return { port: server.port, close: () => server.close() };
    },
  });
}
