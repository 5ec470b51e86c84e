// Unit tests of the node sweep: hb after silence, refresh once, 4001 at exp, 4008 over the buffer limit.
import { describe, expect, it } from 'vitest';
import { RecordingSocket, silentLog, verified } from '../test/unit-helpers.js';
import { createGatewayMetrics } from './metrics.js';
import { Keepalive } from './keepalive.js';
import { newConnState, type ConnState } from './conn/state.js';
import { Sender } from './conn/send.js';
import { createMetricsRegistry } from '@herald/telemetry';

async function conn(exp: number | undefined, now: number): Promise<{ st: ConnState; ws: RecordingSocket }> {
  const token = await verified();
  const st = newConnState('c', { ...token, exp }, 10, now);
  const ws = new RecordingSocket();
  ws.st = st;
  st.ws = ws;
  return { st, ws };
}

describe('Keepalive.tick', () => {
  const metrics = createGatewayMetrics(createMetricsRegistry());
  const sender = new Sender({ maxBackpressureBytes: 1000, metrics, log: silentLog });

  it('sends hb only after heartbeat ms without a direct send', async () => {
    const t0 = 1_000_000;
    const { st, ws } = await conn(undefined, t0);
    const k = new Keepalive({ open: new Set([st]), sender, heartbeatMs: 5000, refreshBeforeS: 60, log: silentLog });
    k.tick(t0 + 4999);
    expect(ws.sent).toEqual([]);
    k.tick(t0 + 5000);
    expect(ws.frames()).toEqual([{ op: 'hb' }]);
  });

  it('sends refresh once inside the window, then closes with 4001 at exp', async () => {
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 100;
    const { st, ws } = await conn(exp, now);
    const k = new Keepalive({ open: new Set([st]), sender, heartbeatMs: 1e9, refreshBeforeS: 60, log: silentLog });
    k.tick((exp - 61) * 1000);
    expect(ws.sent).toEqual([]);
    k.tick((exp - 60) * 1000);
    k.tick((exp - 30) * 1000);
    expect(ws.frames()).toEqual([{ op: 'refresh', exp }]);
    k.tick(exp * 1000);
    expect(ws.ended).toEqual({ code: 4001, reason: 'token expired' });
  });

  it('closes a socket over the buffer limit with 4008 and skips sockets not yet live', async () => {
    const { st, ws } = await conn(undefined, 0);
    const pending = await conn(undefined, 0);
    pending.st.pendingOpen = { resumeAsked: false, resume: undefined };
    pending.ws.buffered = 5000;
    ws.buffered = 1001;
    new Keepalive({ open: new Set([st, pending.st]), sender, heartbeatMs: 1, refreshBeforeS: 0, log: silentLog }).tick(10);
    expect(ws.ended).toEqual({ code: 4008, reason: 'slow consumer' });
    expect(ws.sent).toEqual([]);
    expect(pending.ws.ended).toBeUndefined();
    expect(pending.ws.sent).toEqual([]);
  });
});
