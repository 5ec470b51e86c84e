/**
 * How the `herald` command reports a failure: an operator's error (configuration, usage,
 * port taken, NATS unreachable, no loadable uWebSockets.js build) is one actionable line
 * without a stack; only an unexpected error (a bug) keeps its stack, for the report.
 * Errors are recognised by `name` so that this module loads none of the roles' code.
 * @module
 */
import { UsageError } from './args.js';

/** Exit status: 2 for a usage error, 1 for every other failure. */
export interface Failure {
  readonly text: string;
  readonly exitCode: 1 | 2;
}

/** Errors whose message is already the whole story for an operator. */
const OPERATOR_ERRORS = new Set(['ConfigError', 'ListenError', 'UwsUnavailableError']);

/** Network error codes worth naming after a NATS connection failure. */
const NET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
  CONNECTION_REFUSED: 'connection refused',
};

/** The first network reason in an error's cause chain (bounded: causes can loop). */
function networkReason(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 8 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && NET_REASONS[code] !== undefined) return NET_REASONS[code];
    for (const [c, reason] of Object.entries(NET_REASONS)) if (cur.message.includes(c)) return reason;
    cur = cur.cause;
  }
  return undefined;
}

/** `--foo` unknown, a missing value...: node:util parseArgs' errors are usage errors. */
function isParseArgsError(err: unknown): err is Error {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** The text and exit status for a failure of `command` (undefined before a command is known). */
export function describeFailure(err: unknown, command: string | undefined): Failure {
  const help = command === undefined ? '`herald --help`' : `\`herald ${command} --help\``;
  if (err instanceof UsageError) return { text: `herald: ${err.message} (see ${help})`, exitCode: 2 };
  if (isParseArgsError(err)) return { text: `herald: ${command ?? ''}${command ? ': ' : ''}${err.message} (see ${help})`, exitCode: 2 };
  if (err instanceof Error && OPERATOR_ERRORS.has(err.name)) return { text: `herald: ${err.message}`, exitCode: 1 };
  if (err instanceof Error && err.name === 'BusError') {
    const reason = /^cannot reach NATS/.test(err.message) ? networkReason(err) : undefined;
    const hint = /^cannot reach NATS/.test(err.message) ? ': is nats-server running there (with -js) and reachable from here?' : '';
    return { text: `herald: ${err.message}${reason === undefined ? '' : ` (${reason})`}${hint}`, exitCode: 1 };
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { text: `herald: unexpected error (please report it with this text):\n${detail}`, exitCode: 1 };
}
