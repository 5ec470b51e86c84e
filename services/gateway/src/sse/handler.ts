/** GET /v1/sse: the handshake (conn/handshake.ts) with the stream's topics, the join of every channel with Last-Event-ID recovery, then the stream. */
import type { Bus } from '@herald/bus';
import { inboxChannel } from '@herald/inbox';
import { encodeServerFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { HeaderList, HttpRequest, HttpResponse, ResponseGuard } from '@herald/uws';
import type { Admission } from '../conn/admission.js';
import { NOT_ABORTED, type Handshake } from '../conn/handshake.js';
import { BUS_UNAVAILABLE_REFUSAL, DRAINING_REFUSAL } from '../conn/refusal.js';
import type { Connections } from '../conn/registry.js';
import { newConnState, type ConnIds, type ConnState } from '../conn/state.js';
import type { Join, JoinSteps } from '../hub/join.js';
import type { Sessions } from '../hub/session.js';
import type { Subscriptions } from '../hub/subscriptions.js';
import type { GatewayMetrics } from '../metrics.js';
import type { SseRegistry } from './registry.js';
import { SSE_HEADERS, corsHeaders, forbiddenTopic, parseTopics, readSseHead, resumeIdOf, streamChannels, type SseHead } from './request.js';
import { SseSocket } from './sse-socket.js';
import { parseInboxAfter } from '../ws/upgrade-head.js';

export interface SseDeps {
  /** The handshake counting into `sseRequests` with the `sse` logger. */
  readonly handshake: Handshake;
  readonly admission: Pick<Admission, 'originAllowed' | 'draining'>;
  readonly connections: Pick<Connections, 'unreserve'>;
  readonly join: Pick<Join, 'run'>;
  readonly sessions: Pick<Sessions, 'opened' | 'closed' | 'welcome'>;
  readonly subscriptions: Pick<Subscriptions, 'openedPersonal' | 'openedTopics'>;
  readonly registry: SseRegistry;
  readonly bus: Pick<Bus, 'epoch' | 'position'>;
  readonly ids: ConnIds;
  /** Topics one stream may name: min(100, MAX_SUBSCRIPTIONS_PER_CONN). */
  readonly maxTopics: number;
  readonly metrics: Pick<GatewayMetrics, 'sseConnections' | 'subscriptions'>;
  /** The `sse` component logger. Tokens (header or query) never reach it. */
  readonly log: Logger;
  /** The inbox (inbox/index.ts) when HERALD_INBOX is on: its position travels in the event id under `inbox:<user>`. */
  readonly inbox?: { opened(st: ConnState, after: number): void; closed(st: ConnState): void };
}

/** Abort state of one request; the socket exists once the stream started. */
interface StreamCtx extends ResponseGuard {
  aborted: boolean;
  socket: SseSocket | undefined;
}

/** What the request asked for, fixed once the token is verified. */
interface StreamPlan {
  readonly head: SseHead;
  readonly cors: HeaderList;
  readonly channels: readonly string[];
  readonly epoch: string;
  /** Per channel, what the client holds; undefined when nothing is recovered. */
  readonly since: readonly number[] | undefined;
  /** The request carried an event id (usable or not): `welcome` says `recovered`. */
  readonly asked: boolean;
  /** With the inbox on: the last inbox seq the client holds (event id key `inbox:<user>`, else `?inbox=`). */
  readonly inboxAfter: number | undefined;
}

/**
 * The uWS GET handler: the same synchronous head as the upgrade (admission: draining,
 * Origin, node capacity, upgrade rates; then the topic list and the token's presence),
 * then an asynchronous body (verify, topics allowed, per-user slot, the join of every
 * channel), then one corked synchronous tail that starts the stream.
 */
export function createSseHandler(deps: SseDeps): (res: HttpResponse, req: HttpRequest) => void {
  const hs = deps.handshake;
  const originAllowed = (origin: string): boolean => deps.admission.originAllowed(origin); // a method: bound once here
  return (res, req) => {
    const head = readSseHead(req, res);
    const cors = corsHeaders(head.origin, originAllowed);
    const topics = parseTopics(head.query, deps.maxTopics);
    const opened = hs.open({ ...head, protocol: '' }, () => (topics.ok ? undefined : topics.refusal));
    if ('refusal' in opened) return hs.refuse(res, NOT_ABORTED, opened.refusal, head.ip, cors); // inside the handler: corked
    const ctx: StreamCtx = { aborted: false, socket: undefined };
    res.onAborted(() => {
      ctx.aborted = true;
      ctx.socket?.aborted();
    });
    void open(res, ctx, head, cors, topics.ok ? topics.topics : [], opened.jwt, deps);
  };
}

async function open(res: HttpResponse, ctx: StreamCtx, head: SseHead, cors: HeaderList, topics: readonly string[], jwt: string, deps: SseDeps): Promise<void> {
  const hs = deps.handshake;
  const verdict = await hs.admit(jwt, ctx, (token) => forbiddenTopic(topics, (t) => token.topics.allows(t)));
  if (!verdict.ok) return verdict.refusal === undefined ? hs.aborted() : hs.refuse(res, ctx, verdict.refusal, head.ip, cors);
  const st = newConnState(deps.ids.next(), verdict.token, 0, Date.now());
  const channels = streamChannels(st.userChannel, topics);
  const epoch = deps.bus.epoch();
  const resume = resumeIdOf(head);
  // Only a well-formed id of the current epoch is recovered; otherwise every channel starts live.
  const since = resume.kind === 'valid' && resume.position.epoch === epoch ? channels.map((ch) => resume.position.seqs.get(ch) ?? 0) : undefined;
  const inboxAfter = deps.inbox === undefined ? undefined
    : resume.kind === 'valid' ? (resume.position.seqs.get(inboxChannel(st.sub)) ?? 0) : parseInboxAfter(head.query);
  const plan: StreamPlan = { head, cors, channels, epoch, since, asked: resume.kind !== 'absent', inboxAfter };
  const targets = channels.map((channel, i) => ({ channel, resume: since === undefined ? undefined : { since: since[i] as number, epoch } }));
  const out = await deps.join.run(st, targets, streamSteps(res, ctx, st, plan, deps));
  if (out.ok) {
    hs.accepted();
    deps.log.debug({ conn: st.connId, user: st.sub, topics: channels.length - 1, recovered: welcomeRecovered(plan, out.recovered) }, 'sse stream open');
    return;
  }
  deps.connections.unreserve(st.sub);
  if (out.reason === 'bus') return hs.refuse(res, ctx, BUS_UNAVAILABLE_REFUSAL, head.ip, cors);
  if (ctx.aborted) return hs.aborted();
  hs.refuse(res, ctx, DRAINING_REFUSAL, head.ip, cors);
}

/** `recovered` of `welcome`: only when the request carried an event id; true when every channel was recovered. */
function welcomeRecovered(plan: StreamPlan, recovered: readonly boolean[]): boolean | undefined {
  return plan.asked ? plan.since !== undefined && recovered.every(Boolean) : undefined;
}

/** The stream's part of the join: still wanted unless aborted or draining; registers the stream, then starts it with `welcome`. */
function streamSteps(res: HttpResponse, ctx: StreamCtx, st: ConnState, plan: StreamPlan, deps: SseDeps): JoinSteps {
  return {
    owned: true, // until `ready`; from there the close path releases the references
    wanted: () => !ctx.aborted && !deps.admission.draining,
    ready: (recovered) => register(res, ctx, st, plan, recovered, deps),
    live: (recovered) => {
      const welcome = deps.sessions.welcome(st, { epoch: plan.epoch, recovered: welcomeRecovered(plan, recovered), transport: 'sse' });
      ctx.socket?.start([...SSE_HEADERS, ...plan.cors], encodeServerFrame(welcome));
      if (plan.inboxAfter !== undefined) deps.inbox?.opened(st, plan.inboxAfter);
    },
  };
}

/**
 * Synchronous, right before the stream starts: the socket, the connection's channels and
 * counters, and each channel's starting position, so that even a stream that received
 * nothing reconnects without a gap: a fresh channel starts at the bus's live position
 * (everything after it reaches this stream); a recovered one at the client's seq (the
 * replay moves it on); one that could not be recovered at the live position (the client
 * reloads its state from here).
 */
function register(res: HttpResponse, ctx: StreamCtx, st: ConnState, plan: StreamPlan, recovered: readonly boolean[], deps: SseDeps): void {
  const { channels, since } = plan;
  const sock = new SseSocket(res, st, {
    registry: deps.registry,
    epoch: plan.epoch,
    // The inbox's position rides in the event id too; the channel is never subscribed.
    channels: plan.inboxAfter === undefined ? channels : [...channels, inboxChannel(st.sub)],
    onClose: (code) => {
      deps.sessions.closed(st, code);
      deps.inbox?.closed(st);
      deps.metrics.sseConnections.dec();
    },
  });
  ctx.socket = sock;
  deps.subscriptions.openedTopics(st, channels); // released by the close path
  deps.sessions.opened(st, sock);
  deps.subscriptions.openedPersonal(st);
  deps.metrics.subscriptions.inc(st.channels.length);
  deps.metrics.sseConnections.inc();
  channels.forEach((ch, i) => {
    const live = deps.bus.position(ch) ?? 0;
    const held = since?.[i];
    sock.advance(ch, held === undefined ? live : recovered[i] === true ? held : Math.max(held, live));
  });
  if (plan.inboxAfter !== undefined) sock.advance(inboxChannel(st.sub), plan.inboxAfter);
}
