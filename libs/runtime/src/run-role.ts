/** runRole: node id → logger → metrics → bus → the role's server, then signals: drain, close, bus close, log flush, exit. */
import { hostname } from 'node:os';
import { openBusFromConfig, type Bus, type BusConfigKeys } from '@herald/bus';
import { createLogger, createMetricsRegistry, type LevelWithSilent, type Logger, type Registry } from '@herald/telemetry';

/** The configuration keys every role shares. */
export interface RoleBasics extends BusConfigKeys {
  readonly NODE_ID?: string | undefined;
  readonly LOG_LEVEL: LevelWithSilent;
}

/** What the runner builds for a role. */
export interface RoleParts {
  readonly nodeId: string;
  readonly logger: Logger;
  /** Labelled `node` (not `service`: Prometheus adds its own label of that name). */
  readonly metrics: Registry;
  readonly bus: Bus;
}

/** A role's listening server, as the runner drives it. */
export interface Served {
  readonly port: number;
  /** SIGTERM (and SIGINT when the spec says so): refuse new work, hand clients over. Absent: nothing to drain. */
  drain?(): Promise<void>;
  /** Stop listening and let in-flight work finish. The runner closes the bus afterwards. */
  close(): Promise<void>;
}

export interface RoleSpec<C extends RoleBasics> {
  readonly config: C;
  /** The bus connection's name (NATS client name); default the node id. */
  readonly busName?: (nodeId: string) => string;
  /** Warn when NATS_URL is unset (a production role on the memory bus reaches no other process); `herald dev` means it. */
  readonly warnMemoryBus: boolean;
  /** Also drain on SIGINT (SIGTERM always drains). `herald dev` stops at once on Ctrl-C. */
  readonly drainOnInterrupt: boolean;
  /** Shutdown longer than this after a signal forces exit 1 (the role's own timeouts plus headroom). */
  readonly forcedExitMs: number;
  /** Builds and starts the role's server once the parts exist. The runner closes the bus if it throws. */
  start(parts: RoleParts): Promise<Served>;
}

/** A running role process. */
export interface RunningRole {
  readonly port: number;
  /** Stops the server and closes the bus without draining; removes the signal handlers; does not exit. */
  close(): Promise<void>;
}

/** Headroom past a role's own shutdown timeouts before the exit is forced. */
export const FORCED_EXIT_HEADROOM_MS = 5000;

/** The node id when NODE_ID is unset: hostname and pid, distinct per process on one host. */
export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}`;
}

/**
 * Runs a role in this process. Config errors are the caller's (loadConfig throws before).
 * On SIGTERM (and SIGINT when `drainOnInterrupt`): `drain`, then `close`, bus close, log flush,
 * exit 0 (1 when shutdown failed, or when it took longer than `forcedExitMs`). Without drain
 * on SIGINT: `close` at once, the same way out.
 */
export async function runRole<C extends RoleBasics>(spec: RoleSpec<C>): Promise<RunningRole> {
  const { config } = spec;
  const nodeId = config.NODE_ID ?? defaultNodeId();
  const logger = createLogger({ level: config.LOG_LEVEL, node: nodeId });
  const metrics = createMetricsRegistry({ node: nodeId });
  const busLog = logger.child({ component: 'bus' });
  if (config.NATS_URL === undefined && spec.warnMemoryBus) busLog.warn({}, 'no NATS_URL: in-process memory bus; only this process publishes and delivers');
  const bus = await openBusFromConfig(config, spec.busName?.(nodeId) ?? nodeId, busLog);
  const served = await spec.start({ nodeId, logger, metrics, bus }).catch(async (err: unknown) => {
    await bus.close();
    throw err;
  });
  let stopping: Promise<void> | undefined;
  const shutdown = (drain: boolean): Promise<void> =>
    (stopping ??= (async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      if (drain) await served.drain?.();
      await served.close();
      await bus.close();
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    const drain = signal === 'SIGTERM' || spec.drainOnInterrupt;
    logger.info({ signal, drain }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs: spec.forcedExitMs }, 'shutdown took too long: exiting');
      logger.flush(() => process.exit(1));
    }, spec.forcedExitMs).unref();
    shutdown(drain).then(
      () => {
        logger.info({}, 'stopped');
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
  return { port: served.port, close: () => shutdown(false) };
}
