// Automatic `delivered` receipts: one lost with its connection is no app error and goes again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inboxExt } from './inbox-ext.js';
import type { InboundFrame, Transport } from './transport.js';

/** A WebSocket transport that records the receipt frames it is given (and answers none itself). */
function transport(): Transport & { sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  return { kind: 'websocket', sent, send: (f) => (sent.push(f as Record<string, unknown>), true), close: () => undefined };
}

const frame = (f: Record<string, unknown>): InboundFrame => f as InboundFrame;
const inboxFrame = (seq: number): InboundFrame => frame({ op: 'inbox', seq, id: `m${seq}`, ts: 1, state: 'pending', data: { n: seq } });

afterEach(() => {
  vi.useRealTimers();
});

describe('automatic delivered receipts', () => {
  it('one per tick, cumulative; a receipt that times out raises nothing and goes again at the next connection', async () => {
    vi.useFakeTimers();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const box = inboxExt({ url: 'http://127.0.0.1:1', token: 't' });
      const first = transport();
      box.feed(inboxFrame(1), first);
      box.feed(inboxFrame(2), first);
      await vi.advanceTimersByTimeAsync(0);
      expect(first.sent).toEqual([{ op: 'receipt', id: expect.any(String) as string, status: 'delivered', upTo: 2 }]);
      // The connection dies before the answer: the receipt times out (no unhandled error).
      await vi.advanceTimersByTimeAsync(11_000);
      // The next connection's welcome sends it again; its ack settles it, and nothing more goes.
      const second = transport();
      box.feed(frame({ op: 'welcome' }), second);
      await vi.advanceTimersByTimeAsync(0);
      expect(second.sent).toEqual([{ op: 'receipt', id: expect.any(String) as string, status: 'delivered', upTo: 2 }]);
      box.feed(frame({ op: 'ack', id: second.sent[0]?.['id'] }), second);
      await vi.advanceTimersByTimeAsync(0);
      box.feed(frame({ op: 'welcome' }), second);
      await vi.advanceTimersByTimeAsync(0);
      expect(second.sent).toHaveLength(1);
      expect(box.inbox.last).toBe(2);
      await vi.advanceTimersByTimeAsync(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('autoDelivered: false sends nothing by itself; markDelivered rejects to its caller when the server refuses', async () => {
    const box = inboxExt({ url: 'http://127.0.0.1:1', token: 't', autoDelivered: false });
    const t = transport();
    box.feed(inboxFrame(5), t);
    box.feed(frame({ op: 'welcome' }), t);
    await Promise.resolve();
    expect(t.sent).toEqual([]);
    const p = box.inbox.markDelivered();
    box.feed(frame({ op: 'err', id: t.sent[0]?.['id'], code: 'invalid' }), t);
    await expect(p).rejects.toThrow('receipt refused: invalid');
  });
});
