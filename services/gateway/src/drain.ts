/** SIGTERM drain of the sockets: spread `reconnect` frames over the window, then close leftovers with 1012. */
import { CloseCode } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { ConnState } from './conn/state.js';
import type { Sender } from './conn/send.js';

export interface DrainDeps {
  readonly open: ReadonlySet<ConnState>;
  readonly sender: Sender;
  /** DRAIN_WINDOW_MS. */
  readonly windowMs: number;
  /** The `drain` component logger. */
  readonly log: Logger;
  /** Random in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/** How often the drain checks whether every socket already left. */
const POLL_MS = 50;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Tells every socket to reconnect after a delay drawn uniformly from [0, window), so the
 * node's clients reach the other nodes spread over the window instead of all at once,
 * waits for them to leave (at most the window), then closes the rest with 1012.
 * Resolves with the number closed by 1012.
 */
export async function drainSockets(deps: DrainDeps): Promise<number> {
  const random = deps.random ?? Math.random;
  const started = Date.now();
  let told = 0;
  for (const st of [...deps.open]) {
    // Not live yet (its first frame must be `welcome`): no `reconnect`, just the drain's close.
    if (st.pendingOpen !== undefined) {
      deps.sender.close(st, CloseCode.Draining, 'draining');
      continue;
    }
    if (deps.sender.send(st, { op: 'reconnect', after: Math.floor(random() * deps.windowMs) })) told++;
  }
  deps.log.info({ connections: told, windowMs: deps.windowMs }, 'drain: reconnect sent');
  const deadline = started + deps.windowMs;
  while (deps.open.size > 0 && Date.now() < deadline) await sleep(Math.min(POLL_MS, deadline - Date.now()));
  const left = [...deps.open];
  for (const st of left) deps.sender.close(st, CloseCode.Draining, 'draining');
  deps.log.info({ closed: left.length, elapsedMs: Date.now() - started }, 'drain: sockets closed');
  return left.length;
}
