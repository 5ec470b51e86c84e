/**
 * The `herald` command's help: the overview and one text per command. Printed by
 * `herald --help`, `herald help <command>` and `herald <command> --help` (exit 0, nothing started).
 * @module
 */

export const COMMANDS = ['dev', 'gateway', 'publish-api', 'token', 'publish', 'check-config', 'vapid'] as const;
export type Command = (typeof COMMANDS)[number];

export function isCommand(name: string | undefined): name is Command {
  return (COMMANDS as readonly (string | undefined)[]).includes(name);
}

export const USAGE = `usage: herald <command> [options]

commands:
  dev            gateway + publish API in one process on one port, embedded memory bus
                 (generates a development secret and API key when none is configured)
  gateway        the edge gateway node (production role; needs HERALD_NATS_URL)
  publish-api    the HTTP publish API (production role)
  token          mint a token:    herald token --sub u1 --topics 'news,orders.*' --ttl 1h
  publish        publish a message: herald publish --topic news '{"hello":1}'
  check-config   validate the environment of a role and print its configuration:
                 herald check-config gateway
  vapid          generate a VAPID key pair for Web Push: herald vapid >> .env

options:
  -h, --help     this help; \`herald <command> --help\` for one command
  -v, --version  the version

Configuration comes from HERALD_* environment variables (README, "Configuration").`;

const ROLE_NOTE = `Configuration: HERALD_* environment variables (README, "Configuration"); check them
first with \`herald check-config ROLE\`. An unknown HERALD_* variable is reported with the
closest known name and otherwise ignored. Logs: JSON lines on stdout; SIGTERM drains and exits.`;

const HELP: Record<Command, string> = {
  dev: `usage: herald dev

The gateway and the publish API in one process, on one port (HERALD_PORT, default 8080),
on the embedded memory bus (or NATS when HERALD_NATS_URL is set). Without HERALD_JWT_SECRET
(or another key source) and HERALD_API_KEYS it generates development credentials in
.herald/dev.json under the current folder and prints a ready token, the WebSocket URL and a
curl command. Serves the live page at / (development endpoints /dev/token and /dev/publish:
loopback clients only unless HERALD_DEV_PUBLIC=true). Not for production.

${ROLE_NOTE.replace('ROLE', 'dev')}`,
  gateway: `usage: herald gateway

The edge gateway node: WebSocket (/v1/ws) and SSE (/v1/sse) connections, /healthz, /readyz,
/metrics, on HERALD_PORT (default 8080). Needs a token key source (exactly one of
HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY, HERALD_JWKS_URL) and the bus the publish API
writes to: HERALD_NATS_URL (nats-server with JetStream). A gateway alone on the in-process
memory bus receives nothing from other processes, so it is refused unless asked for with
HERALD_BUS=memory.

${ROLE_NOTE.replace('ROLE', 'gateway')}`,
  'publish-api': `usage: herald publish-api

The HTTP publish API (/v1/publish, /v1/publish/batch, admin endpoints, /healthz, /readyz,
/metrics) on HERALD_PORT (default 8081). Needs HERALD_API_KEYS (comma-separated, 16
characters or more each) and HERALD_NATS_URL to reach the gateways (without it: the
in-process memory bus, which reaches no gateway; a warning says so).

${ROLE_NOTE.replace('ROLE', 'publish-api')}`,
  token: `usage: herald token --sub USER [--topics LIST] [--ttl DURATION] [--aud AUD] [--iss ISS] [--alg ALG]

Mints a token signed with HERALD_JWT_SECRET (or the development secret of \`herald dev\`
in .herald/dev.json under the current folder) and prints it on stdout.

options:
  --sub USER      the user id (the personal channel user:USER), required
  --topics LIST   comma-separated topic patterns the token may subscribe to: news,orders.*,state.>
                  (default: none, only the personal channel)
  --ttl DURATION  lifetime: 30s, 15m, 1h, 7d (default 1h)
  --aud AUD       the aud claim (match HERALD_JWT_AUDIENCE)
  --iss ISS       the iss claim (match HERALD_JWT_ISSUER)
  --alg ALG       HS256 (default), HS384 or HS512

example:
  HERALD_JWT_SECRET=... herald token --sub u1 --topics 'news,orders.*' --ttl 1h`,
  publish: `usage: herald publish (--topic NAME... | --user ID...) [--id ID] [--url URL] JSON

Sends one message through the publish API and prints its JSON answer (exit 1 on an error answer).

options:
  --topic NAME   a topic to publish to (repeatable)
  --user ID      a user's personal channel instead (repeatable); not with --topic
  --id ID        idempotency id: a repeat within HERALD_DEDUPE_WINDOW_MS is not delivered twice
  --url URL      the publish API's base URL (default HERALD_PUBLISH_URL, else http://127.0.0.1:8080,
                 the port of \`herald dev\`; a separate \`herald publish-api\` listens on 8081)
  JSON           the message data, one JSON argument: '{"hello":1}', '"text"', 42

The API key is HERALD_API_KEY, else the first of HERALD_API_KEYS, else the development key
of \`herald dev\` in .herald/dev.json under the current folder.

example:
  HERALD_PUBLISH_URL=http://10.0.0.5:8081 HERALD_API_KEY=... herald publish --topic news '{"hello":1}'`,
  'check-config': `usage: herald check-config ROLE [--json]

Validates the environment for ROLE (gateway, publish-api or dev) as that role would at
start-up, and prints the effective configuration: every HERALD_* variable the role reads,
its value (secrets shown as their length, passwords in URLs masked) and whether it is a
default. Beyond the schema it checks the bus choice (a gateway needs NATS), that *_FILE
variables (NATS TLS, credentials) name readable files, and unknown HERALD_* variables, named
with the closest known one: an error here, only a warning when a role starts. Exits 0 when
the role would start, 1 when it would not (the problems on stderr). Starts and writes nothing.

options:
  --json         print {"role","valid","config","issues"} as JSON instead

example:
  HERALD_NATS_URL=nats://127.0.0.1:4222 HERALD_JWT_SECRET=... herald check-config gateway`,
  vapid: `usage: herald vapid [--json]

Generates a VAPID key pair (P-256, RFC 8292) for Web Push and prints the lines to set:
HERALD_VAPID_PUBLIC_KEY=... and HERALD_VAPID_PRIVATE_KEY=... (base64url). Set
HERALD_VAPID_SUBJECT too (mailto: or https:). Keep the pair for good: every browser
subscription is bound to the public key. Writes nothing to disk; the private key is printed
on stdout only (a note goes to stderr).

options:
  --json         print {"publicKey","privateKey"} instead

example:
  herald vapid >> .env.production`,
};

/** The help of one command. */
export function commandHelp(command: Command): string {
  return HELP[command];
}

/** True when the arguments ask for help (before a `--`, which ends the options). */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}
