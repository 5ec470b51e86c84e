// Zero-loss proofs on the multi-node bed (3 nats-servers, 3 gateways, 2 publish APIs, a load
// balancer): steady publishing while a fault happens, then every client must hold every
// published message of its channels exactly once and in order. Each test prints its figures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWs, waitFor, type WsTestClient } from '@herald/testkit';
import { API_KEY, Bed, mintToken, LoadBalancer, MINTED_TOKENS, Publishers, SECRET, report, settle, startClient, startClients, status, warmUp, type Recorder, type Tally } from './bed.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const DRAIN_WINDOW_MS = 2000;
const NATS_DOWN_MS = Number(process.env['NATS_DOWN_MS'] ?? 8000);

let bed: Bed;
const everyRec: Recorder[] = [];

beforeAll(async () => {
  bed = await new Bed({ gatewayEnv: { HERALD_WS_MAX_BACKPRESSURE_BYTES: String(256 * 1024) } }).start();
}, 90_000);
afterAll(async () => {
  for (const r of everyRec) r.client.close();
  await bed?.stop();
});

function expectZeroLoss(t: Tally, recs: readonly Recorder[], pubs: Publishers): void {
  if (t.problems.length > 0) {
    for (const r of recs) {
      if (!t.problems.some((p) => p.startsWith(`${r.user} `))) continue;
      const got = Object.fromEntries([...r.got].map(([ch, l]) => [ch, l.slice(-8)]));
      const sent = Object.fromEntries([...r.got.keys()].map((ch) => [ch, [...(pubs.seqs.get(ch) ?? [])].sort((a, b) => a - b).slice(-8)]));
      const missing = new Map<string, number[]>();
      for (const ch of r.got.keys()) {
        const seen = new Set(r.got.get(ch));
        missing.set(ch, [...(pubs.seqs.get(ch) ?? [])].filter((x) => !seen.has(x)));
      }
      for (const [ch, miss] of missing) {
        if (miss.length === 0) continue;
        const lo = Math.min(...miss) - 40;
        const hi = Math.max(...miss) + 40;
        const frames = r.wire.filter((w) => {
          const f = JSON.parse(w.text) as { op: string; ch?: string; seq?: number };
          return f.op !== 'msg' ? f.op !== 'hb' : f.ch === ch && (f.seq ?? 0) >= lo && (f.seq ?? 0) <= hi;
        });
        console.log(`[resilience] ${r.user} ${ch} missing ${miss.join(',')}; wire:\n${frames.map((w) => `  ${w.at} #${w.sock} ${w.text.slice(0, 160)}`).join('\n')}`);
      }
      console.log(`[resilience] problem client ${r.user}: state ${r.client.state}, connects ${JSON.stringify(r.connects)}, errors ${r.errors.map((e) => e.code).join(',')}, last got ${JSON.stringify(got)}, last sent ${JSON.stringify(sent)}`);
    }
  }
  expect(t.problems).toEqual([]);
  expect(t.lost).toBe(0);
  expect(t.duplicated).toBe(0);
  expect(t.outOfOrder).toBe(0);
  expect(pubs.stats.unexpected).toEqual([]);
  expect(recs.flatMap((r) => r.unrecovered)).toEqual([]);
  expect(t.published).toBeGreaterThan(100);
}

async function clients(tag: string, count: number, url = bed.lb.url): Promise<{ recs: Recorder[]; pubs: Publishers }> {
  const { recs, targets } = await startClients(url, tag, count);
  everyRec.push(...recs);
  return { recs, pubs: new Publishers(bed, targets, tag) };
}

/** Time from `at` to each client's first `connected` after it, for the clients that were on `node`. */
function reconnectDelays(recs: readonly Recorder[], node: string, at: number): number[] {
  const out: number[] = [];
  for (const r of recs) {
    const before = r.connects.filter((c) => c.at <= at).at(-1);
    if (before?.node !== node) continue;
    const after = r.connects.find((c) => c.at > at);
    out.push(after ? after.at - at : Infinity);
  }
  return out;
}

describe('resilience bed: zero loss under faults', () => {
  it('(a) a gateway SIGKILLed: its clients reconnect to the survivors and recover', async () => {
    const { recs, pubs } = await clients('kill', 18);
    pubs.start();
    await warmUp(recs);
    await sleep(500);
    const victim = bed.gateways[0]!;
    bed.unroute(victim.id);
    const at = Date.now();
    await victim.proc.kill();
    await sleep(3000);
    await bed.restartGateway(victim.id);
    await sleep(1000);
    await pubs.stop();
    await pubs.finalRound();
    const t = await settle(recs, pubs);
    const delays = reconnectDelays(recs, victim.id, at);
    report('gateway SIGKILL', t, { clientsOnVictim: delays.length, recoverMsMax: Math.max(...delays), publish503: pubs.stats.unavailable });
    expect(delays.length).toBeGreaterThan(0);
    expect(Math.max(...delays)).toBeLessThan(5000);
    expectZeroLoss(t, recs, pubs);
  }, 90_000);

  it('(b) rolling restart with SIGTERM drain: readiness first, reconnects spread over the window, no error', async () => {
    const { recs, pubs } = await clients('roll', 24);
    pubs.start();
    await warmUp(recs);
    await sleep(500);
    const spreads: number[] = [];
    const readyMs: number[] = [];
    let maxDelay = 0;
    for (const g of bed.gateways) {
      const port = g.proc.port;
      const at = Date.now();
      g.proc.signal('SIGTERM');
      await waitFor(async () => (await status(port, '/readyz')) === 503, 2000, 'readiness 503', 5);
      readyMs.push(Date.now() - at);
      bed.unroute(g.id); // what a balancer does once /readyz fails
      const exit = await g.proc.exited;
      expect(exit.code).toBe(0);
      await waitFor(() => reconnectDelays(recs, g.id, at).every((d) => d !== Infinity), 5000, `the clients of ${g.id} to reconnect`);
      const delays = reconnectDelays(recs, g.id, at);
      expect(delays.filter((d) => d > DRAIN_WINDOW_MS + 1500), `${g.id}: ${delays.join(',')}`).toEqual([]);
      if (delays.length >= 4) spreads.push(Math.max(...delays) - Math.min(...delays));
      maxDelay = Math.max(maxDelay, ...delays);
      await bed.restartGateway(g.id);
      await sleep(300);
    }
    await sleep(500);
    await pubs.stop();
    await pubs.finalRound();
    const t = await settle(recs, pubs);
    const errors = recs.flatMap((r) => r.errors);
    report('rolling restart (SIGTERM drain)', t, { readinessMs: readyMs, reconnectSpreadMs: spreads, recoverMsMax: maxDelay, errorCodes: [...new Set(errors.map((e) => e.code))], publish503: pubs.stats.unavailable });
    expect(readyMs.every((ms) => ms < 1000)).toBe(true);
    expect(spreads.length).toBeGreaterThan(0);
    for (const s of spreads) expect(s).toBeGreaterThan(DRAIN_WINDOW_MS * 0.3);
    // the SDK reports the drain notice itself as an `error` event with code `draining`: nothing else
    expect(errors.filter((e) => e.code !== 'draining').map((e) => `${e.code} ${e.message}`)).toEqual([]);
    expectZeroLoss(t, recs, pubs);
  }, 90_000);

  it('(c) one nats-server killed and restarted: gateways and publish APIs ride through', async () => {
    const { recs, pubs } = await clients('nats', 18);
    pubs.start();
    await warmUp(recs);
    await sleep(500);
    const leader = await bed.streamLeader();
    const victim = bed.nats.servers.find((x) => x.name === leader);
    if (!victim) throw new Error(`no stream leader (${leader})`);
    const at = Date.now();
    await victim.kill();
    await sleep(NATS_DOWN_MS);
    await victim.restart();
    const back = Date.now();
    await sleep(3000);
    await pubs.stop();
    await pubs.finalRound();
    const t = await settle(recs, pubs, 30_000);
    // the longest time without any successful publish, from the kill on
    const oks = pubs.okAt.filter((x) => x >= at - 1000).sort((a, b) => a - b);
    let stall = 0;
    for (let i = 1; i < oks.length; i++) stall = Math.max(stall, (oks[i] as number) - (oks[i - 1] as number));
    const reconnects = recs.reduce((n, r) => n + r.connects.filter((c) => c.at > at).length, 0);
    report('nats-server SIGKILL + restart', t, { publish503: pubs.stats.unavailable, longestPublishStallMs: stall, killed: `${leader} (stream leader)`, newLeader: await bed.streamLeader(), clientReconnects: reconnects, natsDownMs: back - at });
    expectZeroLoss(t, recs, pubs);
    expect(stall).toBeLessThan(NATS_DOWN_MS + 3000); // publishing resumed, at the latest once the server was back
    for (const p of [...bed.gateways.map((g) => g.proc), ...bed.apis]) await waitFor(async () => (await status(p.port, '/readyz')) === 200, 15_000, 'ready again');
  }, 90_000);

  it('(d) a client cut off longer than the heartbeat is detected dead by the SDK and recovers', async () => {
    const { recs, pubs } = await clients('cut', 6);
    const link = await new LoadBalancer(bed.livePorts()).listen();
    try {
      const victim = await startClient(link.url, 'cut-victim', ['cut.t0', 'cut.t1']);
      everyRec.push(victim);
      const all = [...recs, victim];
      const targets = [...pubs.targets, { user: 'cut-victim' }];
      const pubs2 = new Publishers(bed, targets, 'cut2');
      pubs2.start();
      await warmUp(all);
      await sleep(500);
      const at = Date.now();
      expect(link.freeze()).toBe(1);
      await waitFor(() => victim.connects.some((c) => c.at > at), 15_000, 'the SDK to reconnect');
      const detectMs = (victim.connects.find((c) => c.at > at)?.at ?? 0) - at;
      await sleep(1000);
      await pubs2.stop();
      await pubs2.finalRound();
      const t = await settle(all, pubs2);
      report('client cut off (heartbeat 1 s)', t, { detectAndRecoverMs: detectMs, deadAfterMs: 2 * 1000 + 5000 });
      expect(detectMs).toBeGreaterThanOrEqual(6500);
      expect(detectMs).toBeLessThan(10_000);
      expect(victim.errors.map((e) => e.message)).toContain('heartbeat timeout');
      expectZeroLoss(t, all, pubs2);
    } finally {
      await link.close();
    }
  }, 90_000);

  it('a slow consumer gets 4008; the latency of other clients on the same node stays bounded', async () => {
    const g = bed.gateways[1]!;
    const url = `ws://127.0.0.1:${g.proc.port}/v1/ws`;
    const slow = await connectWs(url, { token: await mintToken('slow-reader') });
    await slow.request({ op: 'sub', id: 1, topics: ['slow.big'] });
    const others: WsTestClient[] = [];
    const latencies = new Map<WsTestClient, number[]>();
    for (let i = 0; i < 5; i++) {
      const c = await connectWs(url, { token: await mintToken(`slow-peer-${i}`) });
      const l: number[] = [];
      latencies.set(c, l);
      c.ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as { op: string; ch?: string; ts?: number };
        if (f.op === 'msg' && f.ch === 'topic:slow.small') l.push(Date.now() - (f.ts as number));
      });
      await c.request({ op: 'sub', id: 1, topics: ['slow.small', 'slow.big'] });
      others.push(c);
    }
    const sock = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    sock.pause(); // the application stops reading: the kernel buffers fill, then the gateway's
    const big = 'x'.repeat(60 * 1024);
    const smallPubs = new Publishers(bed, [{ topic: 'slow.small' }], 'slow-small', { perApi: 1, intervalMs: 20 });
    smallPubs.start();
    let bigSent = 0;
    let counted = 0;
    const slowClosed = (): boolean => counted > 0;
    const bigDone = (async () => {
      for (let i = 0; i < 300 && !slowClosed(); i++) {
        const r = await bed.api('/v1/publish', { topic: 'slow.big', data: { big, i } }, i % 2);
        if (r.status === 200) bigSent++;
      }
    })();
    await waitFor(async () => {
      const m = await (await fetch(`http://127.0.0.1:${g.proc.port}/metrics`)).text();
      counted = Number(/^herald_slow_consumers_total(?:\{[^}]*\})? (\d+)/m.exec(m)?.[1] ?? 0);
      return counted > 0;
    }, 30_000, 'a slow consumer close', 200);
    await bigDone;
    await sleep(500);
    await smallPubs.stop();
    sock.resume();
    const close = await slow.closed;
    const smallSeqs = [...(smallPubs.seqs.get('topic:slow.small') ?? [])].sort((a, b) => a - b);
    for (const c of others) {
      await c.waitMessages('topic:slow.small', smallSeqs.length, 10_000);
      expect(c.closeInfo).toBeUndefined();
    }
    const lats = others.flatMap((c) => latencies.get(c) ?? []).sort((a, b) => a - b);
    const p99 = lats[Math.floor(lats.length * 0.99)] ?? 0;
    console.log(`[resilience] slow consumer: ${JSON.stringify({ slowClose: close.code, bigMessages: bigSent, peerLatencyP50Ms: lats[Math.floor(lats.length / 2)], peerLatencyP99Ms: p99, peerLatencyMaxMs: lats.at(-1), peerMessages: lats.length })}`);
    expect(close.code).toBe(4008);
    expect(p99).toBeLessThan(500);
    for (const c of others) c.terminate();
  }, 60_000);

  it('presence and disconnect across nodes', async () => {
    const recs = await Promise.all([0, 1, 2].map(() => startClient(bed.lb.url, 'pres-user', ['pres.news'])));
    everyRec.push(...recs);
    expect(new Set(recs.map((r) => r.connects[0]?.node)).size).toBeGreaterThan(1);
    await waitFor(async () => (await bed.api('/v1/presence?user=pres-user')).json['connections'] === 3, 5000, 'presence 3');
    expect((await bed.api('/v1/presence?topic=pres.news', undefined, 1)).json).toMatchObject({ topic: 'pres.news', subscribers: 3 });
    const r = await bed.api('/v1/disconnect', { user: 'pres-user', code: 4003, reason: 'bye' }, 1);
    expect(r).toMatchObject({ status: 200, json: { disconnected: 3 } });
    await waitFor(() => recs.every((x) => x.client.state === 'disconnected'), 5000, 'every client disconnected');
    for (const x of recs) expect(x.errors.at(-1)).toMatchObject({ closeCode: 4003 });
    await sleep(500);
    expect(recs.every((x) => x.client.state === 'disconnected')).toBe(true); // 4003: no reconnect without the app
    await waitFor(async () => (await bed.api('/v1/presence?user=pres-user')).json['connections'] === 0, 5000, 'presence 0');
    expect((await bed.api('/v1/presence?topic=pres.news')).json).toMatchObject({ subscribers: 0 });
  }, 30_000);

  it('never logs a token, an API key or the secret, in any process of the bed', () => {
    expect(MINTED_TOKENS.size).toBeGreaterThan(10);
    const secrets = [...MINTED_TOKENS, ...[...MINTED_TOKENS].map((t) => t.split('.')[2] as string), API_KEY, SECRET];
    let lines = 0;
    for (const p of bed.allProcs) {
      lines += p.lines.length;
      for (const line of p.lines) for (const s of secrets) if (line.includes(s)) throw new Error(`a secret is in a log line: ${line.slice(0, 200)}`);
    }
    expect(lines).toBeGreaterThan(50);
  });
});
