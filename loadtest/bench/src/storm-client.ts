/**
 * The storm's client process (forked, driven over IPC): `count` real SDK clients
 * (@herald/client over StormSocket), each with its own user and subscribed to one topic, that
 * record every message they are handed, when they lose their connection and when they are back.
 * @module
 */
import { HeraldClient, type HeraldMessage } from '@herald/client';
import { signToken } from '@herald/auth';
import { counters, route, setHonorRetryAfter, StormSocket } from './storm-socket.js';

export interface StormInit {
  type: 'init';
  proc: number;
  count: number;
  secret: string;
  topic: string;
  ports: number[];
  /** New clients per second while setting up. */
  openPerS: number;
  honorRetryAfter: boolean;
  minReconnectDelayMs: number;
  maxReconnectDelayMs: number;
}
export type StormCmd = StormInit | { type: 'route'; ports: number[]; killAt: number } | { type: 'status' } | { type: 'tally'; seqs: number[] } | { type: 'exit' };

export interface StormStatus {
  proc: number;
  clients: number;
  /** Subscriptions acknowledged (setup). */
  ready: number;
  refusedSubs: number;
  /** Clients in state `connected`. */
  connected: number;
  /** Clients that got `welcome` again since the kill. */
  back: number;
  attempts: number;
  refusals: Record<string, number>;
  connRefused: number;
  /** SDK `error` events by code. */
  errors: Record<string, number>;
  unrecovered: number;
}

export interface StormTally {
  proc: number;
  /** Clients missing at least one published message. */
  clientsWithLoss: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Messages handed to the app (all clients). */
  delivered: number;
  /** Per client: ms from the kill to its first `welcome` after it (NaN: not back). */
  backMs: number[];
  /** Per client: `connected` events in total (1 = never reconnected). */
  connects: number[];
  sample: string[];
}
export type StormReply = { type: 'ready'; proc: number; ready: number; failed: number } | { type: 'status'; status: StormStatus } | { type: 'tally'; tally: StormTally };

interface Rec {
  readonly client: HeraldClient;
  readonly user: string;
  readonly seqs: number[];
  connects: number;
  backAt: number;
}

const recs: Rec[] = [];
let killAt = 0;
let ready = 0;
let refusedSubs = 0;
let unrecovered = 0;
const errors: Record<string, number> = {};
let proc = 0;

const send = (m: StormReply): void => void process.send?.(m);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(cmd: StormInit): Promise<void> {
  proc = cmd.proc;
  route(cmd.ports);
  setHonorRetryAfter(cmd.honorRetryAfter);
  const batch = Math.max(1, Math.round(cmd.openPerS / 20));
  for (let i = 0; i < cmd.count; i += batch) {
    const t0 = Date.now();
    for (let j = i; j < Math.min(cmd.count, i + batch); j++) {
      const user = `storm-${cmd.proc}-${j}`;
      const token = await signToken({ secret: cmd.secret, sub: user, topics: [cmd.topic], ttlSec: 3 * 3600 });
      const client = new HeraldClient({
        url: 'ws://storm.invalid', token, WebSocket: StormSocket, transports: ['websocket'],
        minReconnectDelayMs: cmd.minReconnectDelayMs, maxReconnectDelayMs: cmd.maxReconnectDelayMs,
      });
      const rec: Rec = { client, user, seqs: [], connects: 0, backAt: NaN };
      client.on('connected', () => {
        rec.connects++;
        if (killAt > 0 && Number.isNaN(rec.backAt)) rec.backAt = Date.now();
      });
      client.on('error', (e) => void (errors[e.code] = (errors[e.code] ?? 0) + 1));
      client.on('unrecovered', () => void unrecovered++);
      const sub = client.subscribe(cmd.topic, (m: HeraldMessage) => void rec.seqs.push(m.seq));
      void sub.ready.then((r) => {
        if (r.ok) ready++;
        else refusedSubs++;
      });
      client.connect();
      recs.push(rec);
    }
    await sleep(Math.max(0, 50 - (Date.now() - t0)));
  }
  const until = Date.now() + 120_000;
  while (ready + refusedSubs < cmd.count && Date.now() < until) await sleep(100);
  send({ type: 'ready', proc, ready, failed: cmd.count - ready });
}

function status(): StormStatus {
  let connected = 0;
  let back = 0;
  for (const r of recs) {
    if (r.client.state === 'connected') connected++;
    if (!Number.isNaN(r.backAt)) back++;
  }
  return { proc, clients: recs.length, ready, refusedSubs, connected, back, attempts: counters.attempts, refusals: { ...counters.refusals }, connRefused: counters.connRefused, errors: { ...errors }, unrecovered };
}

function tally(published: readonly number[]): StormTally {
  const t: StormTally = { proc, clientsWithLoss: 0, lost: 0, duplicated: 0, outOfOrder: 0, delivered: 0, backMs: [], connects: [], sample: [] };
  for (const r of recs) {
    const seen = new Set<number>();
    let last = 0;
    for (const s of r.seqs) {
      if (seen.has(s)) t.duplicated++;
      else if (s < last) t.outOfOrder++;
      seen.add(s);
      last = Math.max(last, s);
    }
    t.delivered += r.seqs.length;
    let lost = 0;
    for (const s of published) if (!seen.has(s)) lost++;
    if (lost > 0) {
      t.clientsWithLoss++;
      t.lost += lost;
      if (t.sample.length < 5) t.sample.push(`${r.user}: ${lost} missing, first ${published.find((s) => !seen.has(s))}, state ${r.client.state}`);
    }
    t.backMs.push(r.backAt - killAt);
    t.connects.push(r.connects);
  }
  return t;
}

process.on('message', (cmd: StormCmd) => {
  if (cmd.type === 'init') void start(cmd);
  else if (cmd.type === 'route') {
    killAt = cmd.killAt;
    route(cmd.ports);
  } else if (cmd.type === 'status') send({ type: 'status', status: status() });
  else if (cmd.type === 'tally') send({ type: 'tally', tally: tally(cmd.seqs) });
  else {
    for (const r of recs) r.client.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
