// A subscriber as a well-behaved client runs it: connects, subscribes, checks every frame,
// and until its deadline reconnects after a drop (exponential backoff with jitter after a
// refusal or failure) recovering what it missed (`since` + `epoch`). Gaps are measured from
// the first known seq of each channel: `welcome.seq` (personal channel), `ack` results' `seq`.
import { check } from 'k6';
import { clearTimeout, setTimeout, type TimeoutID } from 'k6/timers';
import { WebSocket, type MessageEvent } from 'k6/websockets';
import {
  connectOk, deliveryBalance, e2eLatency, gaps, messagesReceived, outOfOrder, recoveries, recoveryLatency, storeToClient, subRejected,
  token, unexpectedCloses, welcomes, welcomeTime, WS_URL,
} from './herald.ts';

/** First wait after a failed attempt, ms; doubles per failure up to BACKOFF_MAX_MS, ±50 % jitter. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
/** An attempt without `welcome` within this long is a failure. */
const WELCOME_TIMEOUT_MS = 10_000;

interface ServerFrame {
  readonly op: string;
  readonly ch?: string;
  readonly seq?: number;
  readonly prev?: number;
  readonly ts?: number;
  readonly epoch?: string;
  readonly recovered?: boolean;
  /** `reconnect`: wait this many ms before reconnecting. */
  readonly after?: number;
  readonly data?: { readonly sentAt?: number } | null;
  readonly results?: Record<string, { readonly ok: boolean; readonly seq?: number; readonly recovered?: boolean }>;
}

export interface SessionOptions {
  /** User id (`sub` claim). */
  readonly user: string;
  /** Topics to subscribe to once welcomed (the personal channel needs none). */
  readonly topics: readonly string[];
  /** When the session ends (ms since the Unix epoch): the script closes the socket then. */
  readonly deadline: number;
  /** Wait before the first connection, ms (a ramp). */
  readonly delayMs?: number;
  /** Close and reconnect after this many ms (churn); unset: hold until the deadline. */
  readonly cycleMs?: () => number;
  /** Metric tags, e.g. { role: 'subscriber' }. */
  readonly tags?: Record<string, string>;
}

/** What a session knows across its connections. */
interface Known {
  /** Last seq per channel: the position to recover from and to measure gaps against. */
  readonly lastSeq: Record<string, number>;
  epoch?: string;
  /** Failed attempts in a row. */
  failures: number;
}

/**
 * The current connection's view: each channel's live position (`welcome.seq`, `ack` seq)
 * once known. A message at or below it, or before it is known on a channel being
 * recovered, is a replay: its latency includes the time the client was away.
 */
type LivePositions = Record<string, number>;

/** Runs one session until its deadline; the VU's iteration lasts as long. */
export function session(opts: SessionOptions): void {
  const known: Known = { lastSeq: {}, failures: 0 };
  const next = (waitMs: number): void => {
    if (Date.now() + waitMs >= opts.deadline - 250) return;
    setTimeout(() => connect(opts, known, next), waitMs);
  };
  next(opts.delayMs ?? 0);
}

function backoff(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1)) * (0.5 + Math.random());
}

function connectUrl(user: string, known: Known): string {
  const seq = known.lastSeq[`user:${user}`];
  if (seq === undefined || known.epoch === undefined) return WS_URL;
  return `${WS_URL}${WS_URL.includes('?') ? '&' : '?'}since=${seq}&epoch=${encodeURIComponent(known.epoch)}`;
}

/** One connection; `next(ms)` schedules the following one when it ends before the deadline. */
function connect(opts: SessionOptions, known: Known, next: (waitMs: number) => void): void {
  const started = Date.now();
  const personal = `user:${opts.user}`;
  let welcomed = false;
  let closing = false;
  /** Set by a `reconnect` frame: when to come back, ms from the close. */
  let comeBackMs: number | undefined;
  const timers: TimeoutID[] = [];
  const live: LivePositions = {};
  const ws = new WebSocket(connectUrl(opts.user, known), null, {
    headers: { authorization: `Bearer ${token(opts.user, opts.topics)}` },
    tags: opts.tags ?? {},
  });
  const close = (): void => {
    if (closing) return;
    closing = true;
    ws.close(1000);
  };
  timers.push(setTimeout(() => void (welcomed || close()), WELCOME_TIMEOUT_MS));
  ws.onmessage = (event?: MessageEvent) => {
    if (event === undefined || typeof event.data !== 'string') return;
    const frame = JSON.parse(event.data) as ServerFrame;
    if (frame.op === 'welcome') {
      welcomed = true;
      known.failures = 0;
      welcomeTime.add(Date.now() - started);
      welcomes.add(1);
      connectOk.add(true);
      startPosition(known, personal, frame.seq, frame.recovered);
      if (frame.seq !== undefined) live[personal] = frame.seq;
      known.epoch = frame.epoch ?? known.epoch;
      if (opts.topics.length > 0) ws.send(JSON.stringify(subFrame(opts.topics, known)));
      const hold = Math.min(opts.deadline, opts.cycleMs ? Date.now() + opts.cycleMs() : opts.deadline) - Date.now();
      timers.push(setTimeout(close, Math.max(0, hold)));
    } else if (frame.op === 'ack') {
      onAck(frame, known, live);
    } else if (frame.op === 'msg') {
      onMsg(frame, known, live);
    } else if (frame.op === 'reconnect') {
      // The node is draining: leave now, come back (to another node) after the delay it asks.
      comeBackMs = Math.max(0, Math.min(frame.after ?? 0, BACKOFF_MAX_MS));
      close();
    }
  };
  ws.onclose = () => {
    for (const t of timers) clearTimeout(t);
    if (!welcomed) {
      connectOk.add(false);
      check(null, { 'connected (welcome received)': () => false });
      known.failures++;
      next(backoff(known.failures));
      return;
    }
    if (!closing) {
      unexpectedCloses.add(1);
      check(null, { 'connection ended by the script': () => false });
    }
    // After a planned close (churn, drain) or a drop: reconnect, recovering the gap.
    next(comeBackMs ?? (closing ? 200 + Math.random() * 800 : backoff(1)));
  };
}

/** The `sub` frame: recover each topic from its last seq when the session holds one. */
function subFrame(topics: readonly string[], known: Known): Record<string, unknown> {
  const since: Record<string, number> = {};
  for (const t of topics) {
    const seq = known.lastSeq[`topic:${t}`];
    if (seq !== undefined) since[`topic:${t}`] = seq;
  }
  const recovering = Object.keys(since).length > 0 && known.epoch !== undefined;
  return recovering ? { op: 'sub', id: 1, topics, since, epoch: known.epoch } : { op: 'sub', id: 1, topics };
}

/**
 * A channel's position from `welcome`/`ack`: the first one a session sees, or after a
 * reconnect that could not recover (a gap: what was missed is gone). A recovered channel
 * keeps its own position: the replay follows.
 */
function startPosition(known: Known, ch: string, seq: number | undefined, recovered: boolean | undefined): void {
  const last = known.lastSeq[ch];
  if (last === undefined) {
    if (seq !== undefined) known.lastSeq[ch] = seq;
    return;
  }
  if (recovered === true) {
    recoveries.add(1);
    return;
  }
  gaps.add(1);
  check(null, { 'reconnect recovered the missed messages': () => false });
  if (seq !== undefined) known.lastSeq[ch] = Math.max(last, seq);
}

function onAck(frame: ServerFrame, known: Known, live: LivePositions): void {
  for (const [ch, r] of Object.entries(frame.results ?? {})) {
    if (!check(r, { 'sub accepted': (x) => x.ok })) {
      subRejected.add(1);
      continue;
    }
    startPosition(known, ch, r.seq, r.recovered);
    if (r.seq !== undefined) live[ch] = r.seq;
  }
}

function onMsg(frame: ServerFrame, known: Known, live: LivePositions): void {
  const now = Date.now();
  const ch = frame.ch ?? '';
  const last = known.lastSeq[ch];
  const seq = frame.seq ?? 0;
  const inOrder = last === undefined || seq > last;
  const gap = inOrder && last !== undefined && frame.prev !== undefined && frame.prev > last;
  // One check per message (a check is a sample: two would double k6's cost per message).
  check(frame, { 'msg in seq order, once, no gap': () => inOrder && !gap });
  if (!inOrder) {
    outOfOrder.add(1);
    return;
  }
  if (gap) gaps.add(1);
  known.lastSeq[ch] = seq;
  messagesReceived.add(1);
  deliveryBalance.add(true);
  const position = live[ch];
  const replay = position === undefined ? last !== undefined : seq <= position;
  const sentAt = frame.data?.sentAt;
  if (typeof sentAt === 'number') (replay ? recoveryLatency : e2eLatency).add(now - sentAt);
  if (typeof frame.ts === 'number' && !replay) storeToClient.add(Math.max(0, now - frame.ts));
}
