/**
 * The fan-out seen with the publish's request context (docs/operations.md#request-ids-and-trace-context):
 * a debug line per delivered message that carries one (its request id and trace id), and with
 * HERALD_TRACING=otel a `fan-out` consumer span, child of the `traceparent` the message carries
 * (the publish API's bus publish span). Neither debug nor tracing on: the fan-out is used as it is.
 */
import type { MessageHandler } from '@herald/bus';
import { boundedTracestate, isValidRequestId, parseTraceparent, type Logger, type Tracing } from '@herald/telemetry';

export interface FanoutTraceDeps {
  /** The `hub` logger: debug lines when its level allows. */
  readonly log: Logger;
  readonly tracing: Tracing;
  /** Local connections of a channel (hub/fanout.ts `count`), logged and recorded as `subscribers`. */
  readonly count: (channel: string) => number;
}

/** Logged instead of a request id that a direct NATS publisher set beyond the publish API's rules. */
const INVALID_ID = '[invalid]';

/** Wraps the fan-out's bus handler; returns it unchanged when there is nothing to log or trace. */
export function traceFanout(onMessage: MessageHandler, deps: FanoutTraceDeps): MessageHandler {
  const { log, tracing, count } = deps;
  const debug = log.isLevelEnabled('debug');
  if (!debug && !tracing.enabled) return onMessage;
  return (m) => {
    const t = m.trace;
    if (t === undefined) {
      onMessage(m);
      return;
    }
    const parent = t.traceparent === undefined ? undefined : parseTraceparent(t.traceparent);
    const span = tracing.enabled
      // A backend publishing to NATS directly sets these headers unchecked: bounded here as the publish API does.
      ? tracing.start('fan-out', 'consumer', parent === undefined ? undefined : { parent, tracestate: t.tracestate === undefined ? undefined : boundedTracestate(t.tracestate) }, {
        'messaging.operation.type': 'process', 'messaging.destination.name': m.channel, 'herald.seq': m.seq,
      })
      : undefined;
    try {
      onMessage(m);
    } finally {
      const subscribers = count(m.channel);
      if (span !== undefined) {
        span.setAttribute('herald.subscribers', subscribers);
        span.end();
      }
      if (debug) {
        const traceId = span?.traceId ?? parent?.traceId;
        log.debug({ channel: m.channel, seq: m.seq, reqId: isValidRequestId(t.reqId) ? t.reqId : INVALID_ID, ...(traceId === undefined ? {} : { traceId }), subscribers, latencyMs: Date.now() - m.ts }, 'fan-out');
      }
    }
  };
}
