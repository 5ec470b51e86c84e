/** Maps bus failures to answers: 503 `bus_unavailable` with Retry-After, or 500 for programming errors. */
import { BusError } from '@herald/bus';
import { errorResult, type HttpResult } from './result.js';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_S = 1;

/** What a failed publish request had achieved, to word the 503 precisely. */
export interface PublishProgress {
  /** Publishes acknowledged before the failure. */
  readonly stored: number;
  /** Publishes the request needed. */
  readonly total: number;
  /** True when every message of the request had an id (a retry is then exactly-once). */
  readonly allHaveIds: boolean;
}

/** True for a bus failure a retry may cure (as opposed to a programming error). */
export function isTransientBusError(err: unknown): err is BusError {
  return err instanceof BusError && (err.code === 'unavailable' || err.code === 'timeout' || err.code === 'closed');
}

function publishMessage(err: BusError, p: PublishProgress): string {
  const idNote = p.allHaveIds ? '' : ' (a retry without an id may store a message twice)';
  if (p.stored > 0) {
    return `the bus failed after ${p.stored} of ${p.total} publishes were stored; retry the whole request with the same id: stored ones are deduplicated${idNote}`;
  }
  if (err.code === 'timeout' || err.code === 'closed') {
    return `the bus did not acknowledge in time: the message may or may not be stored; retry with the same id, which stores it at most once${idNote}`;
  }
  return `the bus is unavailable: nothing was stored; retry with the same id${idNote}`;
}

/**
 * The answer to a failed bus call: 503 `bus_unavailable` (Retry-After: 1) for
 * unavailable / timeout / closed, 500 `internal` for anything else. `progress` words
 * the message for publishes.
 */
export function busFailureResult(err: unknown, progress?: PublishProgress): HttpResult {
  if (!isTransientBusError(err)) return errorResult('internal', 'internal error');
  const message = progress ? publishMessage(err, progress) : 'the bus is unavailable; try again';
  return errorResult('bus_unavailable', message, { headers: [['retry-after', String(RETRY_AFTER_S)]] });
}
