/** createGateway: wires the gateway's parts around a Bus and a TokenVerifier; mounts on a uWS app it may share. */
import type { TokenVerifier } from '@herald/auth';
import type { Bus } from '@herald/bus';
import { MAX_TOPICS_PER_FRAME } from '@herald/protocol';
import type { Logger, Registry } from '@herald/telemetry';
import { toUwsBehavior, type App, type Readiness } from '@herald/uws';
import type { GatewayConfig } from './config.js';
import { createControlHandlers } from './control.js';
import { drainSockets } from './drain.js';
import { Conflation } from './hub/conflation.js';
import { Fanout } from './hub/fanout.js';
import { Interest } from './hub/interest.js';
import { Recovery } from './hub/recovery.js';
import { Subscriptions } from './hub/subscriptions.js';
import { Keepalive } from './keepalive.js';
import { createGatewayMetrics } from './metrics.js';
import { ReadinessProbe } from './readiness.js';
import { createSseHandler } from './sse/handler.js';
import { SseRegistry } from './sse/registry.js';
import { Admission } from './ws/admission.js';
import { createBehavior } from './ws/behavior.js';
import { ConnIds, type ConnState } from './ws/conn-state.js';
import { Connections } from './ws/connections.js';
import { Inbound } from './ws/inbound.js';
import { Lifecycle } from './ws/lifecycle.js';
import { Sender } from './ws/send.js';
import { createUpgradeHandler } from './ws/upgrade.js';

/** The WebSocket route (PROTOCOL §1). */
export const WS_PATH = '/v1/ws';
/** The Server-Sent Events fallback route (PROTOCOL §6). */
export const SSE_PATH = '/v1/sse';
/** Close code for a plain shutdown (not a drain): RFC 6455 "going away". */
const GOING_AWAY = 1001;

/** What a gateway node is built from. */
export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly bus: Bus;
  readonly verifier: TokenVerifier;
  readonly metrics: Registry;
  readonly nodeId: string;
}

/** A gateway node's life: mount → start → (drain) → close. */
export interface Gateway {
  /** Registers the WebSocket route `/v1/ws` and the SSE route `/v1/sse` (and nothing else) on `app`, which may be shared. */
  mount(app: App): void;
  /** After mount: serves bus control requests, starts the keepalive sweep and (NATS) the canary. */
  start(): Promise<void>;
  /** Ready unless draining; in NATS mode also needs a connected bus and a recent canary. */
  readiness(): Readiness;
  /** SIGTERM drain: refuse upgrades, spread `reconnect`, 1012 the rest, release the bus. Idempotent. */
  drain(): Promise<void>;
  /** Stops timers, closes sockets (1012 when draining, else 1001), releases bus interest. Idempotent. */
  close(): Promise<void>;
}

/** Builds a gateway node. Nothing runs until `mount` and `start`. */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config: c, bus, nodeId } = deps;
  const child = (component: string): Logger => deps.logger.child({ component });
  const wsLog = child('ws');
  const hubLog = child('hub');
  const gwLog = child('gateway');
  const metrics = createGatewayMetrics(deps.metrics);
  const connections = new Connections(c.MAX_CONNECTIONS, c.MAX_CONNECTIONS_PER_USER);
  const compress = c.WS_COMPRESSION !== 'off';
  const conflation = new Conflation({
    patterns: c.CONFLATE_TOPICS ?? [], maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, sender: (): Sender => sender,
    position: (ch) => bus.position(ch), metrics, log: hubLog,
  });
  const conflating: Conflation | undefined = conflation.enabled ? conflation : undefined;
  const sender = new Sender({ maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, metrics, compress, relief: conflating, log: wsLog });
  const recovery = new Recovery({ bus, sender, metrics, log: hubLog });
  const sse = new SseRegistry(sender);
  const fanout = new Fanout({ metrics, recovery, sse, conflation: conflating, compress, log: hubLog });
  const interest = new Interest({
    bus, onMessage: fanout.onMessage, lingerMs: c.UNSUBSCRIBE_LINGER_MS, log: hubLog, onCount: (n) => metrics.busChannels.set(n),
  });
  const subscriptions = new Subscriptions({ interest, recovery, metrics, conflation: conflating });
  const admission = new Admission({
    allowedOrigins: c.ALLOWED_ORIGINS, connections, upgradeRate: c.UPGRADE_RATE, perIpRate: c.MAX_UPGRADES_PER_IP_RATE,
  });
  const lifecycle = new Lifecycle({
    nodeId, heartbeatMs: c.HEARTBEAT_MS, epoch: () => bus.epoch(), position: (ch) => bus.position(ch), connections, subscriptions, interest, recovery, sender,
    draining: () => admission.draining, metrics, log: wsLog,
  });
  const inbound = new Inbound({
    commands: {
      subscriptions, verifier: deps.verifier, maxSubscriptions: c.MAX_SUBSCRIPTIONS_PER_CONN, position: (ch) => bus.position(ch),
      ...(conflating ? { isConflated: (ch: string) => conflating.isConflated(ch) } : {}), log: wsLog,
    },
    sender, metrics, log: wsLog, limits: { maxFrameBytes: c.WS_MAX_FRAME_BYTES },
    cmdRate: c.CMD_RATE, cmdBurst: c.CMD_BURST, badFrameLimit: c.BAD_FRAME_LIMIT,
  });
  const keepalive = new Keepalive({
    open: connections.open, sender, heartbeatMs: c.HEARTBEAT_MS, refreshBeforeS: c.REFRESH_BEFORE_S,
    onTick: (now) => admission.sweep(now), log: child('keepalive'),
  });
  const probe = new ReadinessProbe({
    bus, nodeId, intervalMs: c.CANARY_INTERVAL_MS, isDraining: () => admission.draining, metrics, log: child('readiness'),
  });
  let app: App | undefined;
  let draining: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  const runDrain = async (): Promise<void> => {
    admission.draining = true;
    metrics.draining.set(1);
    const drainLog = child('drain');
    drainLog.info({ connections: connections.size, windowMs: c.DRAIN_WINDOW_MS }, 'draining');
    const work = drainSockets({ open: connections.open, sender, windowMs: c.DRAIN_WINDOW_MS, log: drainLog }).then(() => interest.close());
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), c.DRAIN_TIMEOUT_MS);
    });
    const late = await Promise.race([work.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) drainLog.warn({ timeoutMs: c.DRAIN_TIMEOUT_MS }, 'drain timed out');
    keepalive.stop();
    probe.stop();
    conflation.stop();
    // TODO(bus): Bus has no way to stop serving control for one node; bus.close() (by the caller) ends it.
    drainLog.info({}, 'drained');
  };

  const runClose = async (): Promise<void> => {
    keepalive.stop();
    probe.stop();
    conflation.stop();
    const wasDraining = admission.draining;
    admission.draining = true;
    for (const st of [...connections.open]) sender.close(st, wasDraining ? 1012 : GOING_AWAY, wasDraining ? 'draining' : 'going away');
    await interest.close();
    gwLog.info({}, 'gateway closed');
  };

  return {
    mount(a: App): void {
      if (app !== undefined) throw new TypeError('gateway already mounted');
      app = a;
      fanout.attach(a);
      const ids = new ConnIds(nodeId);
      const upgrade = createUpgradeHandler({
        admission, connections, verifier: deps.verifier, ids, cmdBurst: c.CMD_BURST, metrics, log: child('upgrade'),
      });
      a.ws(WS_PATH, toUwsBehavior(createBehavior({
        maxFrameBytes: c.WS_MAX_FRAME_BYTES, maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, idleTimeoutS: c.WS_IDLE_TIMEOUT_S,
        compression: c.WS_COMPRESSION, upgrade, lifecycle, inbound,
        ...(conflating ? { drained: (st: ConnState) => conflating.drained(st) } : {}),
      })));
      a.get(SSE_PATH, createSseHandler({
        admission, connections, verifier: deps.verifier, interest, recovery, registry: sse, bus, lifecycle, subscriptions,
        ids, nodeId, heartbeatMs: c.HEARTBEAT_MS, maxTopics: Math.min(MAX_TOPICS_PER_FRAME, c.MAX_SUBSCRIPTIONS_PER_CONN),
        metrics, log: child('sse'),
      }));
    },
    async start(): Promise<void> {
      if (app === undefined) throw new TypeError('mount the gateway before start');
      const mounted = app;
      await bus.serveControl(nodeId, createControlHandlers({
        connections, sender, numSubscribers: (ch) => mounted.numSubscribers(ch) + sse.count(ch), log: child('control'),
      }));
      keepalive.start();
      probe.start();
      gwLog.info({ bus: bus.kind, path: WS_PATH, ssePath: SSE_PATH }, 'gateway started');
    },
    readiness: () => probe.readiness(),
    drain: () => (draining ??= runDrain()),
    close: () => (closing ??= runClose()),
  };
}
