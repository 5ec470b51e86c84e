/** createGateway: wires the gateway's parts around a Bus and a TokenVerifier; mounts on a uWS app it may share. */
import type { TokenVerifier } from '@herald/auth';
import type { Bus } from '@herald/bus';
import type { InboxStore } from '@herald/inbox';
import { CloseCode, MAX_TOPICS_PER_FRAME } from '@herald/protocol';
import { createTracing, type Logger, type Registry } from '@herald/telemetry';
import { toUwsBehavior, type App, type Readiness } from '@herald/uws';
import type { GatewayConfig } from './config.js';
import { Admission } from './conn/admission.js';
import { Handshake } from './conn/handshake.js';
import { Connections } from './conn/registry.js';
import { GOING_AWAY_CLOSE, Sender } from './conn/send.js';
import { ConnIds, type ConnState } from './conn/state.js';
import { createControlHandlers } from './control.js';
import { drainSockets } from './drain.js';
import { traceFanout } from './fanout-trace.js';
import { NodeEvents } from './events.js';
import { Conflation } from './hub/conflation.js';
import { Fanout } from './hub/fanout.js';
import { Interest } from './hub/interest.js';
import { Join } from './hub/join.js';
import { Recovery } from './hub/recovery.js';
import { Sessions } from './hub/session.js';
import { Subscriptions, topicObservers } from './hub/subscriptions.js';
import { PresenceMembers } from './presence/members.js';
import { registerPresenceMetrics } from './presence/metrics.js';
import { GatewayInbox } from './inbox/index.js';
import { Keepalive } from './keepalive.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { ReadinessProbe } from './readiness.js';
import { createSseHandler } from './sse/handler.js';
import { SseRegistry } from './sse/registry.js';
import { createBehavior } from './ws/behavior.js';
import { Inbound } from './ws/inbound.js';
import { Lifecycle } from './ws/lifecycle.js';
import { NativeSink } from './ws/native-sink.js';
import { createUpgradeHandler } from './ws/upgrade.js';

/** The WebSocket route (docs/protocol.md#connecting). */
export const WS_PATH = '/v1/ws';
/** The Server-Sent Events fallback route (docs/protocol.md#server-sent-events-fallback). */
export const SSE_PATH = '/v1/sse';

/** What a gateway node is built from. */
export interface GatewayDeps {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly bus: Bus;
  readonly verifier: TokenVerifier;
  readonly metrics: Registry;
  readonly nodeId: string;
  /** The inbox store to use in memory mode (herald dev shares the publish API's); default: one of its own. */
  readonly inbox?: InboxStore;
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
  /** With HERALD_INBOX on the memory bus: the in-process inbox store, for a publish API in the same process. */
  readonly inboxStore: InboxStore | undefined;
}

/** The node's transport-independent parts (conn/ and hub/), wired once. */
interface Core {
  readonly metrics: GatewayMetrics;
  readonly connections: Connections;
  readonly admission: Admission;
  readonly sender: Sender;
  readonly conflation: Conflation;
  /** The conflation when enabled. */
  readonly conflating: Conflation | undefined;
  readonly recovery: Recovery;
  readonly fanout: Fanout;
  readonly interest: Interest;
  readonly join: Join;
  readonly subscriptions: Subscriptions;
  readonly sessions: Sessions;
  /** Lifecycle events (docs/events.md): silent unless HERALD_EVENTS is on. */
  readonly events: NodeEvents;
  /** Presence members (docs/events.md#presence-members): off unless HERALD_PRESENCE_TOPICS is set. */
  readonly presence: PresenceMembers;
  /** The inbox (docs/inbox.md): off unless HERALD_INBOX is on. */
  readonly inbox: GatewayInbox;
}

function createCore(deps: GatewayDeps, child: (component: string) => Logger): Core {
  const { config: c, bus } = deps;
  const hubLog = child('hub');
  const metrics = createGatewayMetrics(deps.metrics);
  const events = new NodeEvents({ config: c, nodeId: deps.nodeId, logger: deps.logger, metrics: deps.metrics });
  const connections = new Connections(c.MAX_CONNECTIONS, c.MAX_CONNECTIONS_PER_USER, events.enabled ? events.connections : undefined);
  const conflation = new Conflation({
    patterns: c.CONFLATE_TOPICS ?? [], maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, sender: (): Sender => sender,
    position: (ch) => bus.position(ch), metrics, log: hubLog,
  });
  const conflating: Conflation | undefined = conflation.enabled ? conflation : undefined;
  const sender = new Sender({
    maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, metrics, compress: c.WS_COMPRESSION !== 'off', relief: conflating, log: child('ws'),
  });
  const recovery = new Recovery({ bus, sender, metrics, log: hubLog });
  const fanout = new Fanout({ metrics, recovery, conflation: conflating, log: hubLog });
  const interest = new Interest({
    bus, onMessage: traceFanout(fanout.onMessage, { log: hubLog, tracing: createTracing(c.TRACING), count: (ch) => fanout.count(ch) }), lingerMs: c.UNSUBSCRIBE_LINGER_MS, log: hubLog, onCount: (n) => metrics.busChannels.set(n),
  });
  const join = new Join({ interest, recovery });
  const presence = new PresenceMembers({
    settings: {
      topics: c.PRESENCE_TOPICS ?? [], maxMembers: c.PRESENCE_MAX_MEMBERS, graceMs: c.PRESENCE_GRACE_MS, batchMs: c.PRESENCE_BATCH_MS, heartbeatMs: c.PRESENCE_HEARTBEAT_MS,
    },
    nodeId: deps.nodeId, plane: bus.members, send: (st, frame) => void sender.send(st, frame), log: hubLog,
  });
  registerPresenceMetrics(deps.metrics, presence);
  const topics = topicObservers(events.enabled ? events.topics : undefined, presence.enabled ? presence : undefined);
  const subscriptions = new Subscriptions({
    join, interest, recovery, metrics, conflation: conflating, ...(topics ? { topics } : {}),
  });
  const sessions = new Sessions({ nodeId: deps.nodeId, heartbeatMs: c.HEARTBEAT_MS, connections, subscriptions, metrics, log: child('ws') });
  const admission = new Admission({
    allowedOrigins: c.ALLOWED_ORIGINS, connections, upgradeRate: c.UPGRADE_RATE, perIpRate: c.MAX_UPGRADES_PER_IP_RATE,
  });
  const inbox = new GatewayInbox({
    config: c, nodeId: deps.nodeId, memory: bus.kind === 'memory', store: deps.inbox, events: () => events.publisher, sender, log: child('inbox'),
  });
  return { metrics, connections, admission, sender, conflation, conflating, recovery, fanout, interest, join, subscriptions, sessions, events, presence, inbox };
}

/** The WebSocket transport on `WS_PATH`: its fan-out sink, upgrade, lifecycle and inbound commands. */
function mountWebSocket(app: App, core: Core, deps: GatewayDeps, ids: ConnIds, child: (component: string) => Logger): void {
  const { config: c, bus } = deps;
  const { metrics, connections, admission, sender, conflating, join, subscriptions, sessions } = core;
  const wsLog = child('ws');
  core.fanout.attach(new NativeSink(app, c.WS_COMPRESSION !== 'off'));
  const upgradeLog = child('upgrade');
  const handshake = new Handshake({ admission, connections, verifier: deps.verifier, outcomes: metrics.upgrades, log: upgradeLog, name: 'upgrade' });
  const upgrade = createUpgradeHandler({ handshake, connections, ids, cmdBurst: c.CMD_BURST, log: upgradeLog });
  const lifecycle = new Lifecycle({
    epoch: () => bus.epoch(), position: (ch) => bus.position(ch), sessions, join, subscriptions, sender, draining: () => admission.draining, log: wsLog,
    ...(core.inbox.enabled ? { inbox: core.inbox } : {}),
  });
  const inbound = new Inbound({
    commands: {
      subscriptions, verifier: deps.verifier, maxSubscriptions: c.MAX_SUBSCRIPTIONS_PER_CONN, position: (ch) => bus.position(ch),
      ...(conflating ? { isConflated: (ch: string) => conflating.isConflated(ch) } : {}), log: wsLog,
      ...(core.presence.enabled ? { presence: core.presence } : {}),
      ...(core.inbox.enabled ? { inbox: core.inbox } : {}),
    },
    sender, metrics, log: wsLog, limits: { maxFrameBytes: c.WS_MAX_FRAME_BYTES },
    cmdRate: c.CMD_RATE, cmdBurst: c.CMD_BURST, badFrameLimit: c.BAD_FRAME_LIMIT,
  });
  app.ws(WS_PATH, toUwsBehavior(createBehavior({
    maxFrameBytes: c.WS_MAX_FRAME_BYTES, maxBackpressureBytes: c.WS_MAX_BACKPRESSURE_BYTES, idleTimeoutS: c.WS_IDLE_TIMEOUT_S,
    compression: c.WS_COMPRESSION, upgrade, lifecycle, inbound,
    ...(conflating ? { drained: (st: ConnState) => conflating.drained(st) } : {}),
  })));
}

/** The Server-Sent Events transport on `SSE_PATH`: its fan-out sink (the stream registry) and the stream handler. */
function mountSse(app: App, core: Core, deps: GatewayDeps, ids: ConnIds, child: (component: string) => Logger): void {
  const { config: c, bus } = deps;
  const { metrics, connections, admission, join, subscriptions, sessions } = core;
  const registry = new SseRegistry(core.sender);
  core.fanout.attach(registry);
  const log = child('sse');
  const handshake = new Handshake({ admission, connections, verifier: deps.verifier, outcomes: metrics.sseRequests, log, name: 'sse' });
  app.get(SSE_PATH, createSseHandler({
    handshake, admission, connections, join, sessions, subscriptions, registry, bus, ids,
    maxTopics: Math.min(MAX_TOPICS_PER_FRAME, c.MAX_SUBSCRIPTIONS_PER_CONN), metrics, log,
    ...(core.inbox.enabled ? { inbox: core.inbox } : {}),
  }));
  core.inbox.mount(app, deps.verifier, (origin) => admission.originAllowed(origin));
}

/** Builds a gateway node. Nothing runs until `mount` and `start`. */
export function createGateway(deps: GatewayDeps): Gateway {
  const { config: c, bus, nodeId } = deps;
  const child = (component: string): Logger => deps.logger.child({ component });
  const gwLog = child('gateway');
  const core = createCore(deps, child);
  const { metrics, connections, admission, sender, conflation, interest } = core;
  const keepalive = new Keepalive({
    open: connections.open, sender, heartbeatMs: c.HEARTBEAT_MS, refreshBeforeS: c.REFRESH_BEFORE_S,
    onTick: (now) => admission.sweep(now), log: child('keepalive'),
  });
  const probe = new ReadinessProbe({
    bus, nodeId, intervalMs: c.CANARY_INTERVAL_MS, isDraining: () => admission.draining, metrics, log: child('readiness'),
  });
  const stopTimers = (): void => {
    keepalive.stop();
    probe.stop();
    conflation.stop();
  };
  let app: App | undefined;
  let offBusStatus: (() => void) | undefined;
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
    stopTimers();
    // TODO(bus): Bus has no way to stop serving control for one node; bus.close() (by the caller) ends it.
    drainLog.info({}, 'drained');
  };

  const runClose = async (): Promise<void> => {
    stopTimers();
    offBusStatus?.();
    const wasDraining = admission.draining;
    admission.draining = true;
    for (const st of [...connections.open]) sender.close(st, wasDraining ? CloseCode.Draining : GOING_AWAY_CLOSE, wasDraining ? 'draining' : 'going away');
    await interest.close();
    core.presence.close();
    await core.inbox.close();
    // After the sockets: their users' grace starts now (a drained user reconnecting elsewhere within it gives no event).
    await core.events.close();
    gwLog.info({}, 'gateway closed');
  };

  return {
    mount(a: App): void {
      if (app !== undefined) throw new TypeError('gateway already mounted');
      app = a;
      const ids = new ConnIds(nodeId);
      mountWebSocket(a, core, deps, ids, child); // first: the native publish is the fan-out's first sink
      mountSse(a, core, deps, ids, child);
    },
    async start(): Promise<void> {
      if (app === undefined) throw new TypeError('mount the gateway before start');
      // Before the node listens: every connection it takes is counted.
      await core.events.start(bus.kind);
      await core.inbox.start();
      await bus.serveControl(nodeId, createControlHandlers({
        connections, sender, numSubscribers: (ch) => core.fanout.count(ch), log: child('control'),
        ...(core.presence.enabled ? { members: (topic: string) => core.presence.localState(topic) } : {}),
      }));
      core.presence.start();
      metrics.busConnected.set(bus.isConnected() ? 1 : 0);
      offBusStatus = bus.onStatus((s) => metrics.busConnected.set(s === 'connected' || s === 'reconnected' ? 1 : 0));
      keepalive.start();
      probe.start();
      gwLog.info({ bus: bus.kind, path: WS_PATH, ssePath: SSE_PATH }, 'gateway started');
    },
    readiness: () => probe.readiness(),
    drain: () => (draining ??= runDrain()),
    close: () => (closing ??= runClose()),
    inboxStore: core.inbox.memoryStore,
  };
}
