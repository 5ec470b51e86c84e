/**
 * openBus: the one place a service chooses its bus (MemoryBus without a NATS URL, else NatsBus).
 * @module
 */
import type { Logger } from '@herald/telemetry';
import type { Bus } from './bus.js';
import type { HistoryOptions } from './history.js';
import { DEFAULT_SUBJECT_PREFIX } from './subjects.js';
import { MemoryBus } from './memory-bus.js';
import { natsSecurity, type NatsSecurityFiles } from './nats-auth.js';
import { NatsBus } from './nats-bus.js';

export interface OpenBusOptions {
  /** Comma-separated NATS URLs; unset or empty → an in-process MemoryBus. */
  readonly natsUrl?: string | undefined;
  /** JetStream stream name (default `HERALD`); partition k ≥ 1 is `<stream>_P<k>`. */
  readonly stream?: string;
  /** Partitions: streams the channels are spread over (default 1). The same on every process of an install. */
  readonly partitions?: number;
  /** Stream replicas (default 1). */
  readonly replicas?: number;
  readonly history?: Partial<HistoryOptions>;
  /** NATS request timeout in ms (default 5000). */
  readonly timeoutMs?: number;
  /** See NatsBusOptions.publishLingerMs. */
  readonly publishLingerMs?: number;
  /** NATS connection name. */
  readonly name?: string;
  /** Subject prefix (default `herald`): installs sharing a NATS cluster need distinct prefixes and streams. */
  readonly prefix?: string;
  /** TLS and credential files for NATS (read and checked here: a bad file fails the start). */
  readonly security?: NatsSecurityFiles;
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
  const security = natsSecurity(options.security ?? {});
  options.logger?.info({ ...describeSecurity(options.security ?? {}, options.prefix), partitions: options.partitions ?? 1 }, 'bus connection settings');
  return NatsBus.connect({
    servers,
    ...security,
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.stream === undefined ? {} : { stream: options.stream }),
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
    ...(options.history === undefined ? {} : { history: options.history }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.publishLingerMs === undefined ? {} : { publishLingerMs: options.publishLingerMs }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}

/** The bus keys of a service configuration (the `natsConfig` and `historyConfig` fragments of @herald/config). */
export interface BusConfigKeys {
  readonly NATS_URL?: string | undefined;
  readonly NATS_STREAM: string;
  /** Absent: 1. */
  readonly NATS_PARTITIONS?: number | undefined;
  readonly NATS_REPLICAS: number;
  readonly NATS_TIMEOUT_MS: number;
  /** Absent: the bus's default. */
  readonly NATS_PUBLISH_LINGER_MS?: number | undefined;
  readonly NATS_PREFIX?: string | undefined;
  readonly NATS_TLS_CA_FILE?: string | undefined;
  readonly NATS_TLS_CERT_FILE?: string | undefined;
  readonly NATS_TLS_KEY_FILE?: string | undefined;
  readonly NATS_CREDS_FILE?: string | undefined;
  readonly NATS_NKEY_SEED_FILE?: string | undefined;
  readonly HISTORY_SIZE: number;
  readonly HISTORY_TTL_MS: number;
  readonly DEDUPE_WINDOW_MS: number;
}

/** openBus from a service configuration: every service maps the keys the same way. */
export function openBusFromConfig(config: BusConfigKeys, name: string, logger?: Logger): Promise<Bus> {
  return openBus({
    natsUrl: config.NATS_URL,
    stream: config.NATS_STREAM,
    ...(config.NATS_PARTITIONS === undefined ? {} : { partitions: config.NATS_PARTITIONS }),
    replicas: config.NATS_REPLICAS,
    timeoutMs: config.NATS_TIMEOUT_MS,
    ...(config.NATS_PUBLISH_LINGER_MS === undefined ? {} : { publishLingerMs: config.NATS_PUBLISH_LINGER_MS }),
    history: { maxPerChannel: config.HISTORY_SIZE, maxAgeMs: config.HISTORY_TTL_MS, dedupeWindowMs: config.DEDUPE_WINDOW_MS },
    name,
    ...(config.NATS_PREFIX === undefined ? {} : { prefix: config.NATS_PREFIX }),
    security: {
      tlsCaFile: config.NATS_TLS_CA_FILE,
      tlsCertFile: config.NATS_TLS_CERT_FILE,
      tlsKeyFile: config.NATS_TLS_KEY_FILE,
      credsFile: config.NATS_CREDS_FILE,
      nkeySeedFile: config.NATS_NKEY_SEED_FILE,
    },
    ...(logger === undefined ? {} : { logger }),
  });
}

/** What the start-up log says about the connection's security: which files, never their contents. */
function describeSecurity(files: NatsSecurityFiles, prefix: string | undefined): Record<string, string | boolean> {
  return {
    prefix: prefix ?? DEFAULT_SUBJECT_PREFIX,
    tls: Boolean(files.tlsCaFile || files.tlsCertFile),
    ...(files.tlsCaFile ? { tlsCaFile: files.tlsCaFile } : {}),
    ...(files.tlsCertFile ? { tlsCertFile: files.tlsCertFile } : {}),
    auth: files.credsFile ? 'creds' : files.nkeySeedFile ? 'nkey' : 'none',
  };
}
