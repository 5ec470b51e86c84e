/** Opens the bus the configuration asks for: NATS when NATS_URL is set, else the in-process memory bus. */
import { openBusFromConfig, type Bus } from '@herald/bus';
import type { Logger } from '@herald/telemetry';
import type { PublishApiConfig } from './config.js';

/** Opens the configured bus through `openBus` (rejects with BusError when NATS is unreachable). The caller closes it. */
export function openConfiguredBus(config: PublishApiConfig, logger: Logger, name: string): Promise<Bus> {
  const log = logger.child({ component: 'bus' });
  if (config.NATS_URL === undefined) {
    // A standalone publish API on the memory bus reaches no gateway: fine for tests and demos only.
    log.warn('no NATS_URL: using the in-process memory bus; messages reach only this process');
  }
  return openBusFromConfig(config, name, log);
}
