/**
 * openBus: the one place a service chooses its bus (MemoryBus without a NATS URL, else NatsBus).
 * @module
 */
import type { Logger } from '@herald/telemetry';
import type { Bus } from './bus.js';
import type { HistoryOptions } from './history.js';
import { MemoryBus } from './memory-bus.js';
import { NatsBus } from './nats-bus.js';

export interface OpenBusOptions {
  /** Comma-separated NATS URLs; unset or empty → an in-process MemoryBus. */
  readonly natsUrl?: string | undefined;
  /** JetStream stream name (default `HERALD`). */
  readonly stream?: string;
  /** Stream replicas (default 1). */
  readonly replicas?: number;
  readonly history?: Partial<HistoryOptions>;
  /** NATS request timeout in ms (default 5000). */
  readonly timeoutMs?: number;
  /** NATS connection name. */
  readonly name?: string;
  readonly logger?: Logger;
}

/** Opens the bus a service is configured for. Rejects with BusError('unavailable') when NATS cannot be reached. */
export async function openBus(options: OpenBusOptions): Promise<Bus> {
  const servers = (options.natsUrl ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (servers.length === 0) {
    return new MemoryBus({
      ...(options.history === undefined ? {} : { history: options.history }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }
  return NatsBus.connect({
    servers,
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
    ...(options.history === undefined ? {} : { history: options.history }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}

/** The bus keys of a service configuration (the `natsConfig` and `historyConfig` fragments of @herald/config). */
export interface BusConfigKeys {
  readonly NATS_URL?: string | undefined;
  readonly NATS_STREAM: string;
  readonly NATS_REPLICAS: number;
  readonly NATS_TIMEOUT_MS: number;
  readonly HISTORY_SIZE: number;
  readonly HISTORY_TTL_MS: number;
  readonly DEDUPE_WINDOW_MS: number;
}

/** openBus from a service configuration: every service maps the keys the same way. */
export function openBusFromConfig(config: BusConfigKeys, name: string, logger?: Logger): Promise<Bus> {
  return openBus({
    natsUrl: config.NATS_URL,
    stream: config.NATS_STREAM,
    replicas: config.NATS_REPLICAS,
    timeoutMs: config.NATS_TIMEOUT_MS,
    history: { maxPerChannel: config.HISTORY_SIZE, maxAgeMs: config.HISTORY_TTL_MS, dedupeWindowMs: config.DEDUPE_WINDOW_MS },
    name,
    ...(logger === undefined ? {} : { logger }),
  });
}
