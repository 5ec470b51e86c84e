/**
 * The soak's client process (forked, driven over IPC): raw `ws` connections that keep a live
 * count near a target the parent moves, cycle connections (clean close or abrupt terminate),
 * subscribe and unsubscribe ever-new topic names, count deliveries, and play bad actors
 * (invalid tokens, undecodable, unknown, binary and oversized frames) whose answers are checked.
 * @module
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { signToken } from '@herald/auth';

export interface SoakInit {
  type: 'init';
  url: string;
  secret: string;
  /** Users are `u0…u<users-1>`; each connection takes one at random. */
  users: number;
  /** Each connection subscribes one home topic `soak.p0…` (what the parent publishes to). */
  poolTopics: number;
  /** Connections closed and reopened per second while churning (beside the target's moves). */
  cyclePerS: number;
  /** Subscribe (and unsubscribe) frames per second while churning. */
  subsPerS: number;
  /** Bad actors per second while churning. */
  badPerS: number;
}
export type SoakCmd = SoakInit | { type: 'target'; n: number } | { type: 'churn'; on: boolean } | { type: 'settle'; n: number } | { type: 'stats' } | { type: 'exit' };

export interface SoakStats {
  live: number;
  pending: number;
  opened: number;
  openFailed: number;
  closedClean: number;
  closedAbrupt: number;
  subscribes: number;
  unsubscribes: number;
  delivered: number;
  /** Bad actors by kind: answered as the contract says, or not. */
  bad: Record<string, { ok: number; wrong: number }>;
  /** Anything a well-behaved connection should never see, by kind. */
  unexpected: Record<string, number>;
}
export type SoakReply =
  | { type: 'ready' }
  | { type: 'stats'; stats: SoakStats }
  | { type: 'settled'; live: number; expected: { connections: number; subscriptions: number; channels: number } }
  | { type: 'error'; message: string };

interface Conn {
  readonly ws: WebSocket;
  readonly user: string;
  readonly home: string;
  eph: string[];
  ready: boolean;
  closing: boolean;
  nextId: number;
}

const BAD_KINDS = ['bad_token', 'not_json', 'unknown_op', 'binary', 'oversize'] as const;
type BadKind = (typeof BAD_KINDS)[number];
/** The close code each bad frame must get (PROTOCOL "Bad input"); unknown_op gets `err` instead. */
const EXPECTED_CLOSE: Partial<Record<BadKind, number>> = { not_json: 1007, binary: 1003, oversize: 1009 };

let cfg: SoakInit | undefined;
let target = 0;
let churning = false;
let ephSeq = 0;
let badSeq = 0;
const live = new Set<Conn>();
let pending = 0;
const tokens = new Map<string, string>();
let wrongToken = '';
const stats: SoakStats = { live: 0, pending: 0, opened: 0, openFailed: 0, closedClean: 0, closedAbrupt: 0, subscribes: 0, unsubscribes: 0, delivered: 0, bad: {}, unexpected: {} };
for (const k of BAD_KINDS) stats.bad[k] = { ok: 0, wrong: 0 };

const send = (m: SoakReply): void => void process.send?.(m);
const rand = (n: number): number => Math.floor(Math.random() * n);
const oops = (kind: string): void => void (stats.unexpected[kind] = (stats.unexpected[kind] ?? 0) + 1);

async function tokenOf(user: string): Promise<string> {
  let t = tokens.get(user);
  if (t === undefined) {
    t = await signToken({ secret: (cfg as SoakInit).secret, sub: user, topics: ['>'], ttlSec: 3 * 3600 });
    tokens.set(user, t);
  }
  return t;
}

function sendFrame(c: Conn, frame: Record<string, unknown>): void {
  if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(frame));
}

/** Opens one well-behaved connection: welcome → sub home topic → ack → live. */
async function open(): Promise<void> {
  const c0 = cfg as SoakInit;
  pending++;
  const user = `u${rand(c0.users)}`;
  const home = `soak.p${rand(c0.poolTopics)}`;
  const ws = new WebSocket(c0.url, ['herald.v1', `herald.bearer.${await tokenOf(user)}`], { perMessageDeflate: false });
  const c: Conn = { ws, user, home, eph: [], ready: false, closing: false, nextId: 1 };
  stats.opened++;
  const timer = setTimeout(() => {
    if (c.ready) return;
    oops('open_timeout');
    c.closing = true;
    ws.terminate();
  }, 15_000);
  let settled = false;
  const done = (ok: boolean): void => {
    if (settled) return;
    settled = true;
    pending--;
    clearTimeout(timer);
    if (ok) live.add(c);
    else stats.openFailed++;
  };
  ws.on('error', () => {
    if (!c.ready) done(false);
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return oops('binary_from_server');
    const text = data.toString();
    if (text.startsWith('{"op":"msg"')) {
      stats.delivered++;
      return;
    }
    if (text.startsWith('{"op":"welcome"')) {
      sendFrame(c, { op: 'sub', id: 'h', topics: [c.home] });
    } else if (text.startsWith('{"op":"ack"')) {
      if (!c.ready && text.includes('"id":"h"')) {
        if (!text.includes('"ok":true')) oops('home_sub_refused');
        c.ready = true;
        done(true);
      } else if (text.includes('"ok":false')) {
        oops('sub_refused');
      }
    } else if (text.startsWith('{"op":"err"')) {
      oops('err_frame');
    }
  });
  ws.on('close', (code) => {
    live.delete(c);
    if (!c.ready) done(false);
    if (!c.closing) oops(`server_closed_${code}`);
  });
}

function close(c: Conn): void {
  live.delete(c);
  c.closing = true;
  if (Math.random() < 0.5) {
    c.ws.close(1000);
    stats.closedClean++;
  } else {
    c.ws.terminate();
    stats.closedAbrupt++;
  }
}

function randomLive(): Conn | undefined {
  if (live.size === 0) return undefined;
  let i = rand(live.size);
  for (const c of live) if (i-- === 0) return c;
  return undefined;
}

/** One bad actor; its answer is checked against the contract. */
async function bad(kind: BadKind): Promise<void> {
  const c0 = cfg as SoakInit;
  const tally = stats.bad[kind] as { ok: number; wrong: number };
  let judged = false;
  const judge = (ok: boolean): void => {
    if (judged) return;
    judged = true;
    if (ok) tally.ok++;
    else tally.wrong++;
  };
  const token = kind === 'bad_token' ? wrongToken : await tokenOf(`u${rand(c0.users)}`);
  const ws = new WebSocket(c0.url, ['herald.v1', `herald.bearer.${token}`], { perMessageDeflate: false });
  const timer = setTimeout(() => {
    judge(false);
    ws.terminate();
  }, 10_000);
  ws.on('unexpected-response', (_req, res: IncomingMessage) => {
    judge(kind === 'bad_token' && res.statusCode === 401);
    res.resume();
    ws.terminate();
  });
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('{"op":"welcome"')) {
      if (kind === 'not_json') ws.send('{"op":"sub", this is not json');
      else if (kind === 'unknown_op') ws.send(JSON.stringify({ op: 'bogus', id: 7 }));
      else if (kind === 'binary') ws.send(Buffer.from([1, 2, 3, 4]));
      else if (kind === 'oversize') ws.send(JSON.stringify({ op: 'ping', id: 1, pad: 'x'.repeat(20 * 1024) }));
      else judge(false); // a bad token was welcomed
    } else if (kind === 'unknown_op' && text.startsWith('{"op":"err"')) {
      judge(text.includes('"unknown_op"'));
      ws.close(1000);
    }
  });
  ws.on('close', (code) => {
    clearTimeout(timer);
    const want = EXPECTED_CLOSE[kind];
    if (want !== undefined) judge(code === want);
    else judge(false);
  });
}

/** Per-tick amounts from per-second rates (fractional rates accumulate). */
const carry = { cycle: 0, subs: 0, bad: 0 };
function take(key: keyof typeof carry, perS: number, tickMs: number): number {
  carry[key] += (perS * tickMs) / 1000;
  const n = Math.floor(carry[key]);
  carry[key] -= n;
  return n;
}

const TICK_MS = 100;
const MAX_OPS_PER_TICK = 40;

function tick(): void {
  if (cfg === undefined) return;
  // move toward the target
  const have = live.size + pending;
  if (have < target) for (let i = 0; i < Math.min(target - have, MAX_OPS_PER_TICK); i++) void open().catch(() => oops('open_threw'));
  else if (have > target) for (let i = 0; i < Math.min(have - target, MAX_OPS_PER_TICK); i++) {
    const c = randomLive();
    if (c) close(c);
  }
  if (!churning) return;
  for (let i = take('cycle', cfg.cyclePerS, TICK_MS); i > 0; i--) {
    const c = randomLive();
    if (!c) break;
    close(c);
    void open().catch(() => oops('open_threw'));
  }
  for (let i = take('subs', cfg.subsPerS, TICK_MS); i > 0; i--) {
    const c = randomLive();
    if (!c) break;
    if (c.eph.length >= 3) {
      const gone = c.eph.splice(0, 1 + rand(2));
      sendFrame(c, { op: 'unsub', id: c.nextId++, topics: gone });
      stats.unsubscribes += gone.length;
    }
    const fresh = Array.from({ length: 1 + rand(2) }, () => `soak.e${ephSeq++}`);
    c.eph.push(...fresh);
    sendFrame(c, { op: 'sub', id: c.nextId++, topics: fresh });
    stats.subscribes += fresh.length;
  }
  for (let i = take('bad', cfg.badPerS, TICK_MS); i > 0; i--) void bad(BAD_KINDS[badSeq++ % BAD_KINDS.length] as BadKind).catch(() => oops('bad_threw'));
}

/** Stops churning, drops every ephemeral topic, reaches exactly `n` live connections. */
async function settle(n: number): Promise<void> {
  churning = false;
  target = n;
  for (const c of live) {
    if (c.eph.length === 0) continue;
    sendFrame(c, { op: 'unsub', id: c.nextId++, topics: c.eph });
    stats.unsubscribes += c.eph.length;
    c.eph = [];
  }
  const until = Date.now() + 60_000;
  while ((live.size !== n || pending > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const users = new Set<string>();
  const homes = new Set<string>();
  for (const c of live) {
    users.add(c.user);
    homes.add(c.home);
  }
  send({ type: 'settled', live: live.size, expected: { connections: live.size, subscriptions: 2 * live.size, channels: users.size + homes.size } });
}

let ticker: NodeJS.Timeout | undefined;

process.on('message', (cmd: SoakCmd) => {
  if (cmd.type === 'init') {
    cfg = cmd;
    void signToken({ secret: 'not-the-gateway-secret-0123456789abcdef', sub: 'intruder', topics: ['>'], ttlSec: 3600 }).then((t) => {
      wrongToken = t;
      ticker = setInterval(tick, TICK_MS);
      send({ type: 'ready' });
    });
  } else if (cmd.type === 'target') {
    target = cmd.n;
  } else if (cmd.type === 'churn') {
    churning = cmd.on;
  } else if (cmd.type === 'settle') {
    void settle(cmd.n);
  } else if (cmd.type === 'stats') {
    send({ type: 'stats', stats: { ...stats, live: live.size, pending } });
  } else {
    clearInterval(ticker);
    for (const c of live) c.ws.terminate();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
