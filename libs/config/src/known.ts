/**
 * Every `HERALD_*` variable any part of Herald reads, so that a misspelt one is reported
 * with the closest known name (`HERALD_PROT` → `HERALD_PORT`) instead of being silently
 * ignored. One list for every role: a shared environment (compose file, Helm values) sets
 * the publish API's keys next to the gateway's, and neither role should warn about the other.
 * A role's own schema keys are always known (loadConfig adds them), and the `herald` command
 * checks the environment against every role schema before a role starts; this list matters
 * for names read outside the schemas (the command's own, the tools') and for a role started
 * without the command.
 * @module
 */
import { ENV_PREFIX } from './prefix.js';

/** Keys (without the prefix) read by the role schemas, the `herald` command and the tools. */
export const KNOWN_VARIABLES: readonly string[] = [
  // shared by the roles (fragments.ts)
  'LOG_LEVEL', 'NODE_ID', 'HOST', 'PORT',
  'NATS_URL', 'BUS', 'NATS_STREAM', 'NATS_PARTITIONS', 'NATS_REPLICAS', 'NATS_TIMEOUT_MS', 'NATS_PUBLISH_LINGER_MS', 'NATS_PREFIX',
  'NATS_TLS_CA_FILE', 'NATS_TLS_CERT_FILE', 'NATS_TLS_KEY_FILE', 'NATS_CREDS_FILE', 'NATS_NKEY_SEED_FILE',
  'HISTORY_SIZE', 'HISTORY_TTL_MS', 'DEDUPE_WINDOW_MS', 'TRACING',
  'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWKS_URL', 'JWT_ALGORITHMS', 'JWT_AUDIENCE', 'JWT_ISSUER', 'JWT_ALLOW_NO_EXP', 'JWT_CLOCK_TOLERANCE_S',
  // gateway
  'PUBLIC_URL', 'ALLOWED_ORIGINS', 'MAX_CONNECTIONS', 'MAX_CONNECTIONS_PER_USER', 'UPGRADE_RATE', 'MAX_UPGRADES_PER_IP_RATE',
  'WS_MAX_FRAME_BYTES', 'WS_MAX_BACKPRESSURE_BYTES', 'WS_IDLE_TIMEOUT_S', 'WS_COMPRESSION', 'CONFLATE_TOPICS', 'HEARTBEAT_MS',
  'MAX_SUBSCRIPTIONS_PER_CONN', 'CMD_RATE', 'CMD_BURST', 'BAD_FRAME_LIMIT', 'REFRESH_BEFORE_S', 'UNSUBSCRIBE_LINGER_MS',
  'DRAIN_WINDOW_MS', 'DRAIN_TIMEOUT_MS', 'CANARY_INTERVAL_MS',
  // lifecycle events and webhooks (libs/events; gateway and herald dev)
  'EVENTS', 'EVENTS_CONNECTIONS', 'OFFLINE_GRACE_MS', 'EVENTS_MAX_AGE_MS', 'WEBHOOK_URLS', 'WEBHOOK_SECRET', 'WEBHOOK_RETRY_MS',
  'WEBHOOK_TIMEOUT_MS', 'WEBHOOK_CONCURRENCY', 'WEBHOOK_MAX_PENDING',
  'PRESENCE_TOPICS', 'PRESENCE_MAX_MEMBERS', 'PRESENCE_GRACE_MS', 'PRESENCE_BATCH_MS', 'PRESENCE_HEARTBEAT_MS',
  // publish API
  'API_KEYS', 'MAX_BODY_BYTES', 'MAX_DATA_BYTES', 'MAX_BATCH', 'MAX_TARGETS', 'RATE_LIMIT_RPS', 'RATE_LIMIT_BURST',
  'PUBLISH_CONCURRENCY', 'SHUTDOWN_TIMEOUT_MS',
  // the inbox (libs/inbox) and Web Push (libs/push): publish API, gateway (HERALD_INBOX) and herald dev
  'INBOX', 'INBOX_TTL_MS', 'INBOX_MAX', 'VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT', 'PUSH_AFTER_MS', 'PUSH_RATE_PER_MIN',
  'PUSH_MAX_SUBSCRIPTIONS', 'PUSH_TTL_S', 'PUSH_TIMEOUT_MS', 'PUSH_ALLOW_ORIGINS', 'PUSH_LEASE_MS', 'PUSH_ACK_WAIT_MS',
  // the `herald` command: dev page, `herald publish`
  'DEV_PUBLIC', 'API_KEY', 'PUBLISH_URL',
  // the uWebSockets.js loader (libs/uws): pin one of the pinned builds
  'UWS_BUILD',
  // tools: k6 scripts (loadtest/k6), the Helm download script (deploy/scripts)
  'WS_URL', 'API_URL', 'TOKEN', 'HELM',
];

/** A `HERALD_*` variable no part of Herald reads. */
export interface UnknownVariable {
  /** The full name, e.g. `HERALD_PROT`. */
  readonly name: string;
  /** The closest known full name, when one is close enough to be a likely typo. */
  readonly suggestion?: string;
}

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The known key closest to `key` (both without the prefix), or undefined when none is
 * within a third of the key's length (at least 2 edits): `PROT` → `PORT`, `JWT_SECRT` →
 * `JWT_SECRET`, but `FOO` → nothing. Ties go to the earlier entry of `known`.
 */
export function closestKnown(key: string, known: Iterable<string>): string | undefined {
  const upper = key.toUpperCase();
  const limit = Math.max(2, Math.floor(upper.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    // Bounded work on untrusted names: very long variables are compared by their length only.
    if (Math.abs(candidate.length - upper.length) > limit || upper.length > 128) continue;
    const d = distance(upper, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/**
 * The `HERALD_*` variables of `env` that neither KNOWN_VARIABLES nor `extraKnown` (keys
 * without the prefix, e.g. a role schema's) names, each with the closest known name.
 * Empty values count: `HERALD_PROT=` is as much a typo as `HERALD_PROT=80`.
 */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>, extraKnown: Iterable<string> = []): UnknownVariable[] {
  const known = new Set([...KNOWN_VARIABLES, ...extraKnown]);
  const out: UnknownVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(ENV_PREFIX) || env[name] === undefined) continue;
    const key = name.slice(ENV_PREFIX.length);
    if (known.has(key)) continue;
    const suggestion = closestKnown(key, known);
    out.push(suggestion === undefined ? { name } : { name, suggestion: ENV_PREFIX + suggestion });
  }
  return out;
}

/** One line for an unknown variable: `HERALD_PROT: not a Herald variable (did you mean HERALD_PORT?)`. */
export function describeUnknownVariable(u: UnknownVariable): string {
  const name = u.name.length > 80 ? `${u.name.slice(0, 80)}…` : u.name;
  return u.suggestion === undefined ? `${name}: not a Herald variable` : `${name}: not a Herald variable (did you mean ${u.suggestion}?)`;
}

/** Names already judged in this process: the first check (the one with the widest known set) wins. */
const checked = new Set<string>();

/**
 * Reports each unknown variable once per process through `report` (default: a Node process
 * warning, code HERALD_UNKNOWN_VARIABLE). loadConfig calls it for every role; the `herald`
 * command calls it first, with every role schema's keys and its own printer, and a name it
 * judged (known or not) is not judged again by a role's narrower check.
 */
export function warnUnknownVariables(
  env: Readonly<Record<string, string | undefined>>,
  extraKnown: Iterable<string> = [],
  report: (line: string, variable: UnknownVariable) => void = (line) => process.emitWarning(line, { code: 'HERALD_UNKNOWN_VARIABLE' }),
): UnknownVariable[] {
  const fresh = unknownVariables(env, extraKnown).filter((u) => !checked.has(u.name));
  for (const name of Object.keys(env)) if (name.startsWith(ENV_PREFIX)) checked.add(name);
  for (const u of fresh) report(`${describeUnknownVariable(u)}; ignored`, u);
  return fresh;
}
