/** Unit-test parts: a recording socket and a tiny topic router standing in for uWS; the rest is real (MemoryBus, verifier). */
import { createTokenVerifier, type VerifiedToken } from '@herald/auth';
import { MemoryBus } from '@herald/bus';
import { createLogger, createMetricsRegistry } from '@herald/telemetry';
import { Conflation } from '../src/hub/conflation.js';
import { Interest } from '../src/hub/interest.js';
import { Recovery } from '../src/hub/recovery.js';
import { Subscriptions } from '../src/hub/subscriptions.js';
import { Fanout } from '../src/hub/fanout.js';
import { Join } from '../src/hub/join.js';
import { NativeSink, type PublishTarget } from '../src/ws/native-sink.js';
import { createGatewayMetrics, type GatewayMetrics } from '../src/metrics.js';
import { newConnState, type ConnState, type WsLike } from '../src/conn/state.js';
import { Sender } from '../src/conn/send.js';
import { mint, SECRET } from './helpers.js';

export const silentLog = createLogger({ level: 'silent', node: 'unit' });

/** Records what the gateway does to one socket; `end` marks the state closed as uWS's close handler would. */
export class RecordingSocket implements WsLike {
  readonly sent: string[] = [];
  readonly topics = new Set<string>();
  buffered = 0;
  sendResult = 1;
  ended: { code: number; reason: string } | undefined;
  st: ConnState | undefined;

  send(message: string): number {
    this.sent.push(message);
    return this.sendResult;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  end(code = 1000, reason = ''): void {
    this.ended = { code, reason };
    if (this.st) {
      this.st.closed = true;
      this.st.ws = undefined;
    }
  }
  subscribe(topic: string): boolean {
    this.topics.add(topic);
    return true;
  }
  unsubscribe(topic: string): boolean {
    return this.topics.delete(topic);
  }
  isSubscribed(topic: string): boolean {
    return this.topics.has(topic);
  }
  cork(cb: () => void): this {
    cb();
    return this;
  }
  /** Parsed frames sent so far. */
  frames(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
}

/** Delivers app.publish to the recording sockets subscribed to the topic (what uWS does natively). */
export class TopicRouter implements PublishTarget {
  readonly sockets = new Set<RecordingSocket>();
  publish(topic: string, message: string): boolean {
    for (const s of this.sockets) if (s.topics.has(topic)) s.sent.push(message);
    return true;
  }
  numSubscribers(topic: string): number {
    let n = 0;
    for (const s of this.sockets) if (s.topics.has(topic)) n++;
    return n;
  }
}

export const verifier = createTokenVerifier({ hmacSecret: SECRET, clockToleranceSec: 0 });

export async function verified(claims: Record<string, unknown> = {}): Promise<VerifiedToken> {
  return verifier.verify(mint(claims));
}

export interface Hub {
  readonly bus: MemoryBus;
  readonly metrics: GatewayMetrics;
  readonly sender: Sender;
  readonly recovery: Recovery;
  readonly interest: Interest;
  readonly join: Join;
  readonly subscriptions: Subscriptions;
  readonly router: TopicRouter;
  readonly conflation: Conflation;
  /** A connection whose socket is open and whose personal channel is live. */
  connect(claims?: Record<string, unknown>): Promise<{ st: ConnState; ws: RecordingSocket }>;
}

/** The hub parts wired as in createGateway, on a real MemoryBus. */
export function makeHub(opts: { bus?: MemoryBus; maxRecovery?: number; backpressure?: number; conflate?: readonly string[] } = {}): Hub {
  const bus = opts.bus ?? new MemoryBus({ history: { maxPerChannel: 10_000 } });
  const metrics = createGatewayMetrics(createMetricsRegistry());
  const maxBackpressureBytes = opts.backpressure ?? 1024 * 1024;
  const conflation = new Conflation({
    patterns: opts.conflate ?? [], maxBackpressureBytes, sender: (): Sender => sender, position: (ch) => bus.position(ch), metrics, log: silentLog,
  });
  const conflating = conflation.enabled ? conflation : undefined;
  const sender = new Sender({ maxBackpressureBytes, metrics, relief: conflating, log: silentLog });
  const recovery = new Recovery({ bus, sender, metrics, log: silentLog, ...(opts.maxRecovery ? { maxMessages: opts.maxRecovery } : {}) });
  const router = new TopicRouter();
  const fanout = new Fanout({ metrics, recovery, conflation: conflating, log: silentLog });
  fanout.attach(new NativeSink(router, false));
  const interest = new Interest({ bus, onMessage: fanout.onMessage, lingerMs: 0, log: silentLog });
  const join = new Join({ interest, recovery });
  const subscriptions = new Subscriptions({ join, interest, recovery, metrics, conflation: conflating });
  let n = 0;
  return {
    bus, metrics, sender, recovery, interest, join, subscriptions, router, conflation,
    async connect(claims = {}) {
      const st = newConnState(`c${++n}`, await verified(claims), 100, Date.now());
      const ws = new RecordingSocket();
      ws.st = st;
      await interest.acquire(st.userChannel);
      subscriptions.openedPersonal(st);
      st.ws = ws;
      ws.subscribe(st.userChannel);
      router.sockets.add(ws);
      return { st, ws };
    },
  };
}
