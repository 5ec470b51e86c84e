/** GET /v1/sse: the upgrade's admission and token checks, topics, per-user slot, Last-Event-ID recovery, then the stream. */
import type { TokenVerifier, VerifiedToken } from '@herald/auth';
import type { Bus } from '@herald/bus';
import type { Logger } from '@herald/telemetry';
import { writeError, type HeaderList, type HttpRequest, type HttpResponse, type ResponseGuard } from '@herald/uws';
import type { Interest } from '../hub/interest.js';
import type { Recovery, RecoveryBuffer, RecoveryPlan } from '../hub/recovery.js';
import type { Subscriptions } from '../hub/subscriptions.js';
import type { GatewayMetrics, UpgradeResult } from '../metrics.js';
import { DRAINING_REFUSAL, type Admission, type Refusal } from '../ws/admission.js';
import { newConnState, type ConnIds, type ConnState } from '../ws/conn-state.js';
import type { Connections } from '../ws/connections.js';
import type { Lifecycle } from '../ws/lifecycle.js';
import { authRefusal } from '../ws/upgrade.js';
import { pickToken } from '../ws/upgrade-head.js';
import type { SseRegistry } from './registry.js';
import { SSE_HEADERS, corsHeaders, forbiddenTopic, parseTopics, readSseHead, resumeIdOf, streamChannels, type SseHead } from './request.js';
import { SseSocket } from './sse-socket.js';

export interface SseDeps {
  readonly admission: Admission;
  readonly connections: Connections;
  readonly verifier: TokenVerifier;
  readonly interest: Pick<Interest, 'acquire' | 'release'>;
  readonly recovery: Pick<Recovery, 'begin' | 'read' | 'apply' | 'end'>;
  readonly registry: SseRegistry;
  readonly bus: Pick<Bus, 'epoch' | 'position'>;
  /** The WebSocket close path, reused: releases the slot, every channel, and counts the close. */
  readonly lifecycle: Pick<Lifecycle, 'closed'>;
  readonly subscriptions: Pick<Subscriptions, 'openedPersonal'>;
  readonly ids: ConnIds;
  readonly nodeId: string;
  readonly heartbeatMs: number;
  /** Topics one stream may name: min(100, MAX_SUBSCRIPTIONS_PER_CONN). */
  readonly maxTopics: number;
  readonly metrics: Pick<GatewayMetrics, 'sseRequests' | 'sseConnections' | 'connections' | 'subscriptions'>;
  /** The `sse` component logger. Tokens (header or query) never reach it. */
  readonly log: Logger;
}

/** Abort state of one request; the socket exists once the stream started. */
interface StreamCtx extends ResponseGuard {
  aborted: boolean;
  socket: SseSocket | undefined;
}

const NOT_ABORTED: ResponseGuard = { aborted: false };

function refuse(res: HttpResponse, guard: ResponseGuard, r: Refusal, deps: SseDeps, head: SseHead, cors: HeaderList): void {
  deps.metrics.sseRequests.inc({ result: `${r.status}` satisfies UpgradeResult });
  const fields = { status: r.status, code: r.code, ip: head.ip };
  if (r.status >= 500) deps.log.warn(fields, 'sse refused');
  else deps.log.info(fields, 'sse refused');
  const headers: HeaderList = r.retryAfterS === undefined ? cors : [...cors, ['retry-after', String(r.retryAfterS)]];
  writeError(res, guard, r.status, r.code, r.message, headers);
}

/**
 * The uWS GET handler: the same synchronous head as the upgrade (admission: draining,
 * Origin, node capacity, upgrade rates; then the topic list and the token's presence),
 * then an asynchronous body (verify, topics allowed, per-user slot, bus interest and
 * history reads), then one corked synchronous tail that starts the stream.
 */
export function createSseHandler(deps: SseDeps): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const head = readSseHead(req, res);
    const cors = deps.admission.originAllowed(head.origin) ? corsHeaders(head.origin) : [];
    const refusal = deps.admission.check(head);
    if (refusal) return refuse(res, NOT_ABORTED, refusal, deps, head, cors); // inside the handler: corked
    const topics = parseTopics(head.query, deps.maxTopics);
    if (!topics.ok) return refuse(res, NOT_ABORTED, topics.refusal, deps, head, cors);
    const jwt = pickToken({ protocol: '', authorization: head.authorization, query: head.query });
    if (jwt === undefined) return refuse(res, NOT_ABORTED, { status: 401, code: 'token_missing', message: 'token missing' }, deps, head, cors);
    const ctx: StreamCtx = { aborted: false, socket: undefined };
    res.onAborted(() => {
      ctx.aborted = true;
      ctx.socket?.aborted();
    });
    deps.connections.beginVerify();
    void open(res, ctx, head, cors, topics.topics, jwt, deps);
  };
}

async function open(res: HttpResponse, ctx: StreamCtx, head: SseHead, cors: HeaderList, topics: readonly string[], jwt: string, deps: SseDeps): Promise<void> {
  let token: VerifiedToken;
  try {
    token = await deps.verifier.verify(jwt);
  } catch (err) {
    deps.connections.endVerify();
    if (ctx.aborted) return void deps.metrics.sseRequests.inc({ result: 'aborted' });
    return refuse(res, ctx, authRefusal(err), deps, head, cors);
  }
  deps.connections.endVerify();
  if (ctx.aborted) return void deps.metrics.sseRequests.inc({ result: 'aborted' });
  if (deps.admission.draining) return refuse(res, ctx, DRAINING_REFUSAL, deps, head, cors);
  const forbidden = forbiddenTopic(topics, (t) => token.topics.allows(t));
  if (forbidden) return refuse(res, ctx, forbidden, deps, head, cors);
  if (!deps.connections.reserve(token.sub)) {
    return refuse(res, ctx, { status: 429, code: 'too_many_connections', message: 'too many connections for this user' }, deps, head, cors);
  }
  const st = newConnState(deps.ids.next(), token, 0, Date.now());
  const channels = streamChannels(st.userChannel, topics);
  const epoch = deps.bus.epoch();
  const resume = resumeIdOf(head);
  // Only a well-formed id of the current epoch is recovered; otherwise every channel starts live.
  const since = resume.kind === 'valid' && resume.position.epoch === epoch ? channels.map((ch) => resume.position.seqs.get(ch) ?? 0) : undefined;
  // The captures start before the bus subscriptions, so no live message falls between the two.
  const buffers = since?.map((s, i) => deps.recovery.begin(st, channels[i] as string, s));
  const acquired = await Promise.allSettled(channels.map((ch) => deps.interest.acquire(ch)));
  const undo = (): void => {
    for (const b of buffers ?? []) deps.recovery.end(b);
    acquired.forEach((r, i) => r.status === 'fulfilled' && deps.interest.release(channels[i] as string));
    deps.connections.unreserve(st.sub);
  };
  if (acquired.some((r) => r.status === 'rejected')) {
    undo();
    return refuse(res, ctx, { status: 503, code: 'bus_unavailable', message: 'bus unavailable', retryAfterS: 1 }, deps, head, cors);
  }
  const plans = since === undefined ? undefined : await Promise.all(channels.map((ch, i) => deps.recovery.read(ch, since[i] as number, epoch)));
  if (ctx.aborted || deps.admission.draining) {
    undo();
    if (ctx.aborted) return void deps.metrics.sseRequests.inc({ result: 'aborted' });
    return refuse(res, ctx, DRAINING_REFUSAL, deps, head, cors);
  }
  goLive(res, ctx, st, { channels, epoch, cors, since, buffers, plans, asked: resume.kind !== 'absent' }, deps);
}

interface LiveStart {
  readonly channels: readonly string[];
  readonly epoch: string;
  readonly cors: HeaderList;
  /** Per channel, what the client holds; undefined when nothing is recovered. */
  readonly since: readonly number[] | undefined;
  readonly buffers: readonly RecoveryBuffer[] | undefined;
  readonly plans: readonly RecoveryPlan[] | undefined;
  /** The request carried an event id (usable or not): `welcome` says `recovered`. */
  readonly asked: boolean;
}

/**
 * Synchronous from here to the end (nothing else runs in between): register the
 * connection, set each channel's starting position, then corked: headers, `welcome`,
 * each channel's replay and flush (or its registration for fan-out).
 */
function goLive(res: HttpResponse, ctx: StreamCtx, st: ConnState, s: LiveStart, deps: SseDeps): void {
  const { channels, since, buffers, plans } = s;
  const recoveredEach = channels.map((_, i) => {
    const plan = plans?.[i];
    return plan !== undefined && plan.ok && buffers?.[i]?.overflow === false;
  });
  const sock = new SseSocket(res, st, {
    registry: deps.registry,
    epoch: s.epoch,
    channels,
    onClose: (code) => {
      deps.lifecycle.closed(st, code);
      deps.metrics.sseConnections.dec();
    },
  });
  ctx.socket = sock;
  st.ws = sock;
  for (const ch of channels) if (ch !== st.userChannel) st.channels.add(ch); // released by the close path
  deps.connections.add(st);
  deps.subscriptions.openedPersonal(st);
  deps.metrics.subscriptions.inc(st.channels.size);
  deps.metrics.connections.set(deps.connections.size);
  deps.metrics.sseConnections.inc();
  // Starting positions, so that even a stream that received nothing reconnects without a gap:
  // a fresh channel starts at the bus's live position (everything after it reaches this
  // stream); a recovered one at the client's seq (the replay moves it on); one that could
  // not be recovered at the live position (the client reloads its state from here).
  channels.forEach((ch, i) => {
    const live = deps.bus.position(ch) ?? 0;
    const held = since?.[i];
    sock.advance(ch, held === undefined ? live : recoveredEach[i] ? held : Math.max(held, live));
  });
  const recovered = s.asked ? since !== undefined && recoveredEach.every(Boolean) : undefined;
  const welcome = JSON.stringify({
    op: 'welcome',
    conn: st.connId,
    node: deps.nodeId,
    user: st.sub,
    heartbeat: deps.heartbeatMs,
    epoch: s.epoch,
    ...(st.exp !== undefined ? { exp: st.exp } : {}),
    ...(recovered !== undefined ? { recovered } : {}),
    transport: 'sse',
  });
  res.cork(() => {
    sock.start([...SSE_HEADERS, ...s.cors], welcome);
    channels.forEach((ch, i) => {
      const buf = buffers?.[i];
      const plan = plans?.[i];
      if (buf !== undefined && plan !== undefined) deps.recovery.apply(buf, plan);
      else sock.subscribe(ch);
    });
  });
  deps.metrics.sseRequests.inc({ result: 'ok' });
  deps.log.debug({ conn: st.connId, user: st.sub, topics: channels.length - 1, recovered }, 'sse stream open');
}
