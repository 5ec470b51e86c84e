/** SDK clients in Node that record every message per channel, and the tally of what they hold against what was published. */
import WebSocket from 'ws';
import { HeraldClient, type HeraldErrorLike, type HeraldMessage } from '@herald/client';
import { waitFor } from '@herald/testkit';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Publishers, Target } from './publishers.js';
import { mintToken } from './tokens.js';

export interface Recorder {
  readonly user: string;
  readonly topics: readonly string[];
  readonly client: HeraldClient;
  /** channel → delivered seqs, in delivery order. */
  readonly got: Map<string, number[]>;
  readonly errors: HeraldErrorLike[];
  readonly unrecovered: string[];
  /** Time and node of every `connected` event. */
  readonly connects: { at: number; node: string }[];
  /** Every frame the client's sockets received, raw (for diagnosis), with the socket's number. */
  readonly wire: { at: number; sock: number; text: string }[];
}

export async function startClient(url: string, user: string, topics: readonly string[]): Promise<Recorder> {
  const token = await mintToken(user);
  const wire: Recorder['wire'] = [];
  let socks = 0;
  // the `ws` WebSocket, recording every frame it receives before the SDK sees it
  class RecordingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      const sock = ++socks;
      this.on('message', (d) => wire.push({ at: Date.now(), sock, text: String(d) }));
    }
  }
  const client = new HeraldClient({ url, token, WebSocket: RecordingWebSocket as never, transports: ['websocket'], minReconnectDelayMs: 100, maxReconnectDelayMs: 2000 });
  const rec: Recorder = { user, topics, client, got: new Map(), errors: [], unrecovered: [], connects: [], wire };
  const record = (m: HeraldMessage): void => {
    let l = rec.got.get(m.ch);
    if (!l) rec.got.set(m.ch, (l = []));
    l.push(m.seq);
  };
  client.on('user', record);
  client.on('error', (e) => rec.errors.push(e));
  client.on('unrecovered', ({ channel }) => rec.unrecovered.push(channel));
  client.on('connected', (info) => rec.connects.push({ at: Date.now(), node: info.node }));
  const ready = topics.map((t) => client.subscribe(t, record).ready);
  client.connect();
  const results = await Promise.all(ready);
  for (const r of results) if (!r.ok) throw new Error(`subscribe refused: ${JSON.stringify(r)}`);
  return rec;
}

export interface Tally {
  published: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  problems: string[];
}

/** Compares what each client holds with what was published to its channels. */
export function tally(recs: readonly Recorder[], pubs: Publishers): Tally {
  const t: Tally = { published: pubs.total, delivered: 0, lost: 0, duplicated: 0, outOfOrder: 0, problems: [] };
  for (const r of recs) {
    for (const ch of [`user:${r.user}`, ...r.topics.map((x) => `topic:${x}`)]) {
      const expected = [...(pubs.seqs.get(ch) ?? [])].sort((a, b) => a - b);
      const got = r.got.get(ch) ?? [];
      t.delivered += got.length;
      const seen = new Set<number>();
      let last = 0;
      for (const s of got) {
        if (seen.has(s)) t.duplicated++;
        else if (s < last) t.outOfOrder++;
        seen.add(s);
        last = Math.max(last, s);
      }
      const exp = new Set(expected);
      const missing = expected.filter((s) => !seen.has(s));
      const extra = [...seen].filter((s) => !exp.has(s));
      t.lost += missing.length;
      if (missing.length > 0) t.problems.push(`${r.user} ${ch}: missing ${missing.slice(0, 5).join(',')} (${missing.length})`);
      if (extra.length > 0) t.problems.push(`${r.user} ${ch}: seqs never answered 200: ${extra.slice(0, 5).join(',')}`);
    }
  }
  return t;
}

/** Waits until every client holds every published message of its channels (or the timeout). */
export async function settle(recs: readonly Recorder[], pubs: Publishers, timeoutMs = 20_000): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = tally(recs, pubs);
    if (t.lost === 0 || Date.now() > deadline) return t;
    await sleep(100);
  }
}

/**
 * Waits until every client is connected (its subscriptions were acked in startClient). No
 * first message is needed: `welcome` and the `sub` acks give the SDK each channel's live
 * position, so a reconnect recovers even a channel that has delivered nothing yet.
 */
export async function warmUp(recs: readonly Recorder[], timeoutMs = 20_000): Promise<void> {
  await waitFor(() => recs.every((r) => r.connects.length > 0), timeoutMs, 'every client connected', 50);
}

/** Clients named `<tag>-u<i>`, each on its personal channel and two of `topicCount` topics. */
export async function startClients(url: string, tag: string, count: number, topicCount = 3): Promise<{ recs: Recorder[]; targets: Target[] }> {
  const topics = Array.from({ length: topicCount }, (_, k) => `${tag}.t${k}`);
  const recs = await Promise.all(Array.from({ length: count }, (_, i) => startClient(url, `${tag}-u${i}`, [topics[i % topicCount] as string, topics[(i + 1) % topicCount] as string])));
  const targets: Target[] = [...topics.map((topic) => ({ topic })), ...recs.map((r) => ({ user: r.user }))];
  return { recs, targets };
}

export function report(name: string, t: Tally, extra: Record<string, unknown> = {}): void {
  console.log(`[resilience] ${name}: ${JSON.stringify({ published: t.published, delivered: t.delivered, lost: t.lost, duplicated: t.duplicated, outOfOrder: t.outOfOrder, ...extra })}`);
}
