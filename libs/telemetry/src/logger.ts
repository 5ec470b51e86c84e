/**
 * pino logger factory: JSON on stdout, node id bound, secrets redacted.
 * @module
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

/**
 * Paths that may hold a token or an API key. Code never logs them on purpose; this is
 * the second line of defence when an object is logged whole.
 */
export const REDACT_PATHS: readonly string[] = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'req.query.token',
  'apiKey',
  '*.apiKey',
  'apiKeys',
  '*.apiKeys',
  'secret',
  '*.secret',
  'JWT_SECRET',
  'API_KEYS',
  '*.JWT_SECRET',
  '*.API_KEYS',
  'sec-websocket-protocol',
  '*["sec-websocket-protocol"]',
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Bound to every line as `node`. */
  readonly node: string;
  /** Destination; default stdout. Tests pass a stream to read the lines. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { node: options.node },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger, LevelWithSilent };
