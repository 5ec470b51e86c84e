/**
 * Herald on 2 NATS gateways: does each node receive only the bus messages its own users
 * need? Compares `herald_messages_in_total` with `herald_deliveries_total` per node.
 * @module
 */
import { log } from './common.js';
import { measure, tokensFor } from './phases.js';
import { heraldNats } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';

export interface InterestResult { nodes: { node: number; messagesIn: number; deliveries: number; messagesForNode: number; ratio: number }[]; connections: number; lost: number }

async function metricSum(url: string, name: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name + ' ') || line.startsWith(name + '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

export async function runInterest(connsPerUser: number, rate: number): Promise<InterestResult> {
  const users = 200;
  const k = connsPerUser;
  const messages = 1000;
  log(`▶ Herald on 2 NATS gateways: ${users} users × ${k} connections, user u<i> on node i % 2, ${messages} messages to random users`);
  const run = await heraldNats(2).start();
  const gens = await LoadGens.start(1);
  const pub = await Publisher.start();
  try {
    // token j is user j % users and goes to node j % 2: with an even user count every user lives on one node
    const tokens = await tokensFor(0, users * k, users);
    const c = await gens.connect('herald', run.wsUrls, tokens, false);
    const read = (): Promise<number[][]> => Promise.all(run.metricsUrls.map(async (u) => [await metricSum(u, 'herald_messages_in_total'), await metricSum(u, 'herald_deliveries_total')]));
    const before = await read();
    const { d, sent } = await measure(run, { gens, pub }, 'personal', messages, rate, messages * k, { kind: 'user', users });
    const after = await read();
    const forNode = [0, 0];
    sent.perUser.forEach((m, u) => (forNode[u % 2]! += m));
    const nodes = run.metricsUrls.map((_, i) => {
      const messagesIn = after[i]![0]! - before[i]![0]!;
      const deliveries = after[i]![1]! - before[i]![1]!;
      return { node: i, messagesIn, deliveries, messagesForNode: forNode[i]!, ratio: messagesIn / Math.max(1, deliveries / k) };
    });
    for (const nd of nodes) log(`  node ${nd.node}: messages in ${nd.messagesIn}, deliveries ${nd.deliveries} (${nd.messagesForNode} messages for its users): ${nd.ratio.toFixed(3)}×`);
    return { nodes, connections: c.count, lost: d.lost };
  } finally {
    await endRun(gens, pub, run);
  }
}
