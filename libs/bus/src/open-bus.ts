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
