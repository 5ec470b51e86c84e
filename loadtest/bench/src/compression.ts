/**
 * permessage-deflate off / shared / dedicated: wire bytes, CPU and memory per delivery,
 * with clients (ws) that offer the extension.
 * @module
 */
import { TOPIC, log } from './common.js';
import { connectPhase, deliveryPhase, tokensFor, type DeliveryResult } from './phases.js';
import { ceiling, heraldDev, type TargetDef } from './targets.js';
import { endRun, LoadGens, Publisher } from './workers.js';

export interface CompressionResult { target: string; mode: string; extensions: string; rssPerConnBytes: number; fanout: DeliveryResult }

export interface CompressionOpts { conns: number; messages: number; rate: number; loadgens: number; overBudget: (reserveS: number) => boolean }

export async function runCompression(o: CompressionOpts): Promise<CompressionResult[]> {
  const out: CompressionResult[] = [];
  const tokens = await tokensFor(0, o.conns, o.conns);
  const cases: { t: TargetDef; mode: string; env: Record<string, string> }[] = [
    { t: ceiling, mode: 'off', env: { CEILING_COMPRESSION: 'off' } },
    { t: ceiling, mode: 'shared', env: { CEILING_COMPRESSION: 'shared' } },
    { t: ceiling, mode: 'dedicated', env: { CEILING_COMPRESSION: 'dedicated' } },
    { t: heraldDev, mode: 'off', env: { HERALD_WS_COMPRESSION: 'off' } },
    { t: heraldDev, mode: 'shared', env: { HERALD_WS_COMPRESSION: 'shared' } },
  ];
  for (const [i, cs] of cases.entries()) {
    if (o.overBudget(20)) { log(`  compression: budget spent, skipping the rest`); break; }
    log(`▶ compression ${i + 1}/${cases.length}: ${cs.t.name}, ${cs.mode}; client offers permessage-deflate`);
    const run = await cs.t.start(cs.env);
    const gens = await LoadGens.start(o.loadgens);
    const pub = await Publisher.start();
    try {
      const c = await connectPhase(run, gens, tokens, true);
      const d = await deliveryPhase(run, { gens, pub }, `deflate ${cs.mode}`, o.messages, o.rate, c.connections * o.messages, { kind: 'topic', topic: TOPIC });
      out.push({ target: cs.t.name, mode: cs.mode, extensions: c.extensions || '(none)', rssPerConnBytes: c.rssPerConnBytes, fanout: d });
      log(`  negotiated "${c.extensions}", ${d.wireBytesPerDelivery.toFixed(1)} wire bytes/delivery, ${d.serverCpuUsPerDelivery.toFixed(2)} µs CPU/delivery, ${(c.rssPerConnBytes / 1024).toFixed(1)} KiB/conn, lost ${d.lost}`);
    } finally {
      await endRun(gens, pub, run);
    }
  }
  return out;
}
