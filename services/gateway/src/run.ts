/** The gateway process role: config → verifier → the shared role runner (libs/runtime) → a standalone gateway server. */
import { createTokenVerifier } from '@herald/auth';
import { loadConfig } from '@herald/config';
import { FORCED_EXIT_HEADROOM_MS, runRole, type RunningRole } from '@herald/runtime';
import { gatewayConfigSchema, verifierConfigOf } from './config.js';
import { startGatewayServer } from './server.js';

/**
 * loadConfig → verifier (before the bus: a bad key fails fast) → runRole: node id, logger,
 * metrics, bus, then the server. On SIGTERM or SIGINT it drains (docs/protocol.md#server--client
 * `reconnect`, then 1012), closes and exits 0. Throws ConfigError on a bad configuration
 * (the caller prints it).
 */
export async function runGateway(env: Readonly<Record<string, string | undefined>>): Promise<RunningRole> {
  const config = loadConfig(gatewayConfigSchema, env);
  const verifier = createTokenVerifier(verifierConfigOf(config));
  return runRole({
    config,
    warnMemoryBus: true,
    drainOnInterrupt: true,
    // Drain is bounded by DRAIN_TIMEOUT_MS; closing sockets and the bus takes the headroom.
    forcedExitMs: config.DRAIN_TIMEOUT_MS + FORCED_EXIT_HEADROOM_MS,
    start: async ({ nodeId, logger, metrics, bus }) => {
      const server = await startGatewayServer({ config, logger, bus, verifier, metrics, nodeId, host: config.HOST, port: config.PORT });
      return { port: server.port, drain: () => server.gateway.drain(), close: () => server.close() };
    },
  });
}
