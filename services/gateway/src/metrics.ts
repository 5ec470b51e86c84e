/** The gateway's Prometheus metrics (names are stable: dashboards and alerts use them). */
import { Counter, Gauge, Histogram, type Registry } from '@herald/telemetry';
import { CloseCode } from '@herald/protocol';
import { LatencyHistogram } from './hub/latency-histogram.js';

/** Every metric the gateway exports, created once per registry. */
export interface GatewayMetrics {
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly busChannels: Gauge;
  readonly messagesIn: Counter;
  readonly deliveries: Counter;
  readonly framesIn: Counter<'op'>;
  readonly closes: Counter<'code'>;
  readonly upgrades: Counter<'result' | 'reason'>;
  readonly recoveries: Counter<'outcome'>;
  readonly slowConsumers: Counter;
  readonly conflations: Counter;
  readonly conflatedMessages: Counter;
  readonly canarySeconds: Histogram;
  readonly draining: Gauge;
  readonly sseConnections: Gauge;
  readonly sseRequests: Counter<'result' | 'reason'>;
  readonly deliveryLatency: LatencyHistogram;
  readonly busConnected: Gauge;
}

/** Upgrade (and SSE request) outcomes as `result` label values. */
export type UpgradeResult = 'ok' | '400' | '401' | '403' | '429' | '500' | '503' | 'aborted';

// Close codes are chosen by clients too: only these become their own label value, so a
// hostile client cannot grow the label set (everything else counts as `other`).
const KNOWN_CLOSE_CODES = new Set<number>([...Object.values(CloseCode), 1001, 1005, 1006]);

/** Label value for a close code, bounded to the known set. */
export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

function getOrCreate<M>(registry: Registry, name: string, make: () => M): M {
  // All-in-one mode and tests may build more than one gateway on one registry.
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

/** Registers (or reuses) the gateway metrics on `registry`. */
export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const registers = [registry];
  const gauge = (name: string, help: string): Gauge => getOrCreate(registry, name, () => new Gauge({ name, help, registers }));
  const counter = (name: string, help: string): Counter => getOrCreate(registry, name, () => new Counter({ name, help, registers }));
  const labelled = <L extends string>(name: string, help: string, label: L): Counter<L> =>
    getOrCreate(registry, name, () => new Counter<L>({ name, help, labelNames: [label], registers }));
  // `reason`: the wire error code of a refusal (a bounded catalogue set); absent on ok and aborted.
  const outcomes = (name: string, help: string): Counter<'result' | 'reason'> =>
    getOrCreate(registry, name, () => new Counter<'result' | 'reason'>({ name, help, labelNames: ['result', 'reason'], registers }));
  return {
    connections: gauge('herald_connections', 'Open connections on this node (WebSocket and SSE)'),
    subscriptions: gauge('herald_subscriptions', 'Channel subscriptions across connections (personal channels included)'),
    busChannels: gauge('herald_bus_channels', 'Channels with a bus subscription on this node'),
    messagesIn: counter('herald_messages_in_total', 'Bus messages received for fan-out'),
    deliveries: counter('herald_deliveries_total', 'Message frames handed to sockets (one per subscriber)'),
    framesIn: labelled('herald_frames_in_total', 'Client frames received, by op (bad: undecodable or invalid)', 'op'),
    closes: labelled('herald_closes_total', 'Connection closes by close code (SSE streams included; a client leaving an SSE stream counts as 1001)', 'code'),
    upgrades: outcomes('herald_upgrades_total', 'Upgrade requests by result (ok, aborted or HTTP status) and refusal reason (wire error code)'),
    recoveries: labelled('herald_recoveries_total', 'Recoveries with since, by outcome', 'outcome'),
    slowConsumers: counter('herald_slow_consumers_total', 'Connections closed with 4008 (send buffer overflow)'),
    conflations: counter('herald_conflations_total', 'Times a connection that fell behind was paused on its conflated topics (HERALD_CONFLATE_TOPICS)'),
    conflatedMessages: counter('herald_conflated_messages_total', 'Conflated-topic messages skipped by paused connections (each got the newest instead)'),
    canarySeconds: getOrCreate(registry, 'herald_canary_seconds', () => new Histogram({
      name: 'herald_canary_seconds',
      help: 'Bus canary round trip (NATS mode)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    })),
    draining: gauge('herald_draining', '1 while this node drains'),
    sseConnections: gauge('herald_sse_connections', 'Open SSE streams on this node (also counted in herald_connections)'),
    sseRequests: outcomes('herald_sse_requests_total', 'SSE stream requests by result (ok, aborted or HTTP status) and refusal reason (wire error code)'),
    deliveryLatency: getOrCreate(registry, 'herald_delivery_latency_seconds', () => new LatencyHistogram(
      'herald_delivery_latency_seconds',
      'Message ts (set by the bus at publish) to the fan-out writing it to this node\'s sockets; once per message delivered to at least one connection; millisecond clock read once per event-loop turn',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registry,
    )),
    busConnected: gauge('herald_bus_connected', '1 while the bus (NATS) connection is up, 0 while it is disconnected or closed (memory bus: always 1)'),
  };
}
