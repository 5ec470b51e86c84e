// Unit tests of Sender: every direct send checks uWS's result and the buffered bytes; slow consumers get 4008 once.
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@herald/telemetry';
import { CloseCode } from '@herald/protocol';
import { RecordingSocket, silentLog, verified } from '../../test/unit-helpers.js';
import { createGatewayMetrics } from '../metrics.js';
import { newConnState, type ConnState } from './state.js';
import { Sender, closeReason } from './send.js';

async function setup(limit = 100): Promise<{ sender: Sender; st: ConnState; ws: RecordingSocket; slow: () => Promise<number> }> {
  const metrics = createGatewayMetrics(createMetricsRegistry());
  const sender = new Sender({ maxBackpressureBytes: limit, metrics, log: silentLog });
  const st = newConnState('c1', await verified(), 10, Date.now());
  const ws = new RecordingSocket();
  ws.st = st;
  st.ws = ws;
  const slow = async (): Promise<number> => (await metrics.slowConsumers.get()).values[0]?.value ?? 0;
  return { sender, st, ws, slow };
}

describe('Sender', () => {
  it('encodes a frame and stamps the last send time', async () => {
    const { sender, st, ws } = await setup();
    st.lastSendAt = 0;
    expect(sender.send(st, { op: 'hb' })).toBe(true);
    expect(ws.sent).toEqual(['{"op":"hb"}']);
    expect(st.lastSendAt).toBeGreaterThan(0);
  });

  it('accepts backpressure within the limit and closes 4008 beyond it, counting the slow consumer once', async () => {
    const { sender, st, ws, slow } = await setup(100);
    ws.sendResult = 0;
    ws.buffered = 100;
    expect(sender.sendText(st, 'x')).toBe(true);
    ws.buffered = 101;
    expect(sender.sendText(st, 'y')).toBe(false);
    expect(ws.ended).toEqual({ code: CloseCode.SlowConsumer, reason: 'slow consumer' });
    expect(sender.sendText(st, 'z')).toBe(false);
    expect(ws.sent).toEqual(['x', 'y']);
    expect(await slow()).toBe(1);
  });

  it('treats a dropped send as a slow consumer whatever the buffer says', async () => {
    const { sender, st, ws } = await setup(100);
    ws.sendResult = 2;
    expect(sender.send(st, { op: 'hb' })).toBe(false);
    expect(ws.ended?.code).toBe(CloseCode.SlowConsumer);
  });

  it('checkBackpressure closes only above the limit, and does nothing on a closed connection', async () => {
    const { sender, st, ws } = await setup(100);
    ws.buffered = 50;
    expect(sender.checkBackpressure(st)).toBe(true);
    ws.buffered = 500;
    expect(sender.checkBackpressure(st)).toBe(false);
    expect(ws.ended?.code).toBe(CloseCode.SlowConsumer);
    expect(sender.checkBackpressure(st)).toBe(false);
  });

  it('sendMsg goes through the socket sendMsg when it has one (SSE), else through send', async () => {
    const { sender, st, ws } = await setup();
    expect(sender.sendMsg(st, 'topic:a', 3, '{"op":"msg"}')).toBe(true);
    const calls: [string, number, string][] = [];
    const sse = Object.assign(new RecordingSocket(), {
      sendMsg: (ch: string, seq: number, frame: string): number => {
        calls.push([ch, seq, frame]);
        return 1;
      },
    });
    st.ws = sse;
    expect(sender.sendMsg(st, 'topic:a', 4, '{"op":"msg"}')).toBe(true);
    expect(ws.sent).toEqual(['{"op":"msg"}']);
    expect(calls).toEqual([['topic:a', 4, '{"op":"msg"}']]);
  });

  it('close cuts the reason to 123 bytes without splitting a character and is a no-op once closed', async () => {
    const { sender, st, ws } = await setup();
    const reason = 'é'.repeat(100);
    sender.close(st, 4000, reason);
    expect(Buffer.byteLength(ws.ended?.reason ?? '')).toBeLessThanOrEqual(123);
    expect(ws.ended?.reason).toBe(closeReason(reason));
    expect(closeReason(reason)).toBe('é'.repeat(61));
    ws.ended = undefined;
    sender.close(st, 4000, 'again');
    expect(ws.ended).toBeUndefined();
  });
});
