/**
 * Which bus a role runs on, checked across keys (the schemas check each key alone). A
 * gateway on the in-process memory bus reaches no publisher outside its process, so
 * `herald gateway` needs NATS unless the memory bus is asked for by name.
 * @module
 */
import { ENV_PREFIX } from './prefix.js';

/** The process roles of the `herald` command. */
export type Role = 'gateway' | 'publish-api' | 'dev';

/** Problems with the bus choice in `env`, one line each (empty: fine). */
export function busChoiceIssues(role: Role, env: Readonly<Record<string, string | undefined>>): string[] {
  const natsUrl = (env[`${ENV_PREFIX}NATS_URL`] ?? '').trim();
  const bus = env[`${ENV_PREFIX}BUS`] ?? '';
  if (bus === 'nats' && natsUrl === '') return [`${ENV_PREFIX}BUS: nats needs ${ENV_PREFIX}NATS_URL (for example nats://127.0.0.1:4222)`];
  if (bus === 'memory' && natsUrl !== '') return [`${ENV_PREFIX}BUS: memory contradicts ${ENV_PREFIX}NATS_URL; unset one of them`];
  if (role === 'gateway' && natsUrl === '' && bus !== 'memory') {
    return [
      `${ENV_PREFIX}NATS_URL: a gateway needs NATS to receive what the publish API sends: set ${ENV_PREFIX}NATS_URL=nats://host:4222 ` +
        `(nats-server with JetStream: -js), or ${ENV_PREFIX}BUS=memory for a gateway alone on the in-process bus ` +
        '(`herald dev` runs the gateway and the publish API together on it)',
    ];
  }
  return [];
}
