/**
 * Retrying a setup step (creating a stream, a consumer) while NATS JetStream is starting: a fresh
 * cluster elects its meta leader and meets its peers for a few seconds, and a restarted server
 * recovers its streams, so a process started with its cluster sees timeouts, "no responders" and
 * 503s that go away on their own. Each caller says which failures no retry can cure, how long to
 * keep trying and how long to pause; the loop itself lives here once.
 * @module
 */

/**
 * The pause before the next attempt: `fixed`, or `exponential` from `firstMs` (after the first
 * failure), doubling after each further one, never above `maxMs`.
 */
export type SetupRetryPause =
  | { readonly kind: 'fixed'; readonly ms: number }
  | { readonly kind: 'exponential'; readonly firstMs: number; readonly maxMs: number };

/** One retry about to happen, for the caller's log line. */
export interface SetupRetry {
  /** The failure being retried. */
  readonly err: unknown;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The pause before the next attempt, ms. */
  readonly pauseMs: number;
}

/** When to stop: at an absolute time, or a window that starts with the first attempt. */
export type SetupRetryWindow =
  | { /** ms since the Unix epoch. */ readonly deadline: number; readonly withinMs?: never }
  | { /** ms from the first attempt. */ readonly withinMs: number; readonly deadline?: never };

export type SetupRetryOptions = SetupRetryWindow & {
  /** Failures no retry can cure (a configuration error, a refused request): thrown at once. */
  readonly isFinal: (err: unknown) => boolean;
  readonly pause: SetupRetryPause;
  /**
   * What the deadline bounds.
   * - `next-attempt-late` (the default): no attempt starts at or after the deadline; a failure
   *   whose pause would reach it is thrown then, so the call ends by the deadline (an attempt in
   *   flight aside). For a caller whose own start has that deadline.
   * - `deadline-passed`: a failure is retried as long as the deadline has not passed, so the
   *   last pause may end after it (by up to one pause). For a caller that promises a window of
   *   retries rather than an end time.
   */
  readonly stopWhen?: 'next-attempt-late' | 'deadline-passed';
  /** Called before each pause (not after the last failure): the caller logs with its own context. */
  readonly onRetry?: (retry: SetupRetry) => void;
};

/** The pause after failed attempt `attempt` (from 1); exported for its test. */
export function setupRetryPauseMs(pause: SetupRetryPause, attempt: number): number {
  return pause.kind === 'fixed' ? pause.ms : Math.min(pause.maxMs, pause.firstMs * 2 ** (attempt - 1));
}

/**
 * Runs `step` until it succeeds, a failure is final, or the deadline stops it; the last failure
 * is thrown as it came (the caller's error types and messages reach its caller unchanged).
 */
export async function retrySetup<T>(step: () => Promise<T>, options: SetupRetryOptions): Promise<T> {
  const deadline = options.deadline ?? Date.now() + (options.withinMs ?? 0);
  const stopWhen = options.stopWhen ?? 'next-attempt-late';
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (options.isFinal(err)) throw err;
      const pauseMs = setupRetryPauseMs(options.pause, attempt);
      const now = Date.now();
      if (stopWhen === 'next-attempt-late' ? now + pauseMs >= deadline : now >= deadline) throw err;
      options.onRetry?.({ err, attempt, pauseMs });
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
