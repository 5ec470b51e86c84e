// The gateway's header fast path against real messages from nats-server: the same answers as
// the client's own header decoding, and taken with the installed client (not the fallback).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { HDR_REQUEST_ID, HDR_TRACEPARENT, HDR_TRACESTATE, headerValue, liveHeaders, rawHeaderBlock, setTraceHeaders, traceHasLineBreak } from '../src/live-headers.js';
import { decodeLive } from '../src/nats-live.js';
import { HDR_ID, HDR_LAST_SEQ, HDR_SEQ, HDR_TS } from '../src/nats-stream.js';

const NAMES = { seq: HDR_SEQ, lastSeq: HDR_LAST_SEQ, ts: HDR_TS, id: HDR_ID };
const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('live header fast path', () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LH', subjects: ['lh.in.>'], republish: { src: 'lh.in.>', dest: 'lh.out.>' } });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  /** Publishes through JetStream and returns the RePublish copies, in order. */
  async function republished(sends: { subject: string; data: string; h: Record<string, string> }[]): Promise<Msg[]> {
    const got: Msg[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    const sub = nc.subscribe('lh.out.>', { callback: (_err, m) => { got.push(m); if (got.length === sends.length) done(); } });
    await nc.flush();
    for (const s of sends) {
      const h = headers();
      for (const [k, v] of Object.entries(s.h)) h.set(k, v);
      await nc.request(s.subject, s.data, { headers: h, timeout: 5000 });
    }
    await all;
    sub.unsubscribe();
    return got;
  }

  it('reads seq, last seq, ts, id and the request context exactly as msg.headers does, from the raw block', async () => {
    const msgs = await republished([
      { subject: 'lh.in.user.a', data: '{"x":1}', h: { [HDR_TS]: '1700000000123', [HDR_ID]: 'order-1' } },
      { subject: 'lh.in.user.a', data: '{"x":2}', h: { [HDR_TS]: '1700000000124' } },
      { subject: 'lh.in.user.b', data: '"é ✓"', h: { [HDR_ID]: 'id with spaces: and colons', 'Nats-Msg-Id': 'm-3', 'X-Other': 'Herald-Id: not this' } },
      { subject: 'lh.in.user.b', data: '{}', h: {} },
      { subject: 'lh.in.user.c', data: '1', h: { [HDR_REQUEST_ID]: 'req-1', [HDR_TRACEPARENT]: TP, [HDR_TRACESTATE]: 'rojo=1,congo=2' } },
      { subject: 'lh.in.user.c', data: '2', h: { [HDR_REQUEST_ID]: 'req-2' } },
      { subject: 'lh.in.user.c', data: '3', h: { [HDR_TRACEPARENT]: TP } }, // no request id: no context (the publisher always sends one)
    ]);
    expect(msgs).toHaveLength(7);
    for (const m of msgs) {
      expect(rawHeaderBlock(m)).toBeDefined(); // the fast path is taken with this client
      const h = m.headers!;
      const slow = (k: string): string | undefined => (h.has(k) ? h.get(k) : undefined);
      const reqId = slow(HDR_REQUEST_ID);
      const tp = slow(HDR_TRACEPARENT);
      const ts = slow(HDR_TRACESTATE);
      const trace = reqId === undefined ? undefined : { reqId, ...(tp === undefined ? {} : { traceparent: tp }), ...(ts === undefined ? {} : { tracestate: ts }) };
      expect(liveHeaders(m, NAMES)).toEqual({ seq: slow(HDR_SEQ), lastSeq: slow(HDR_LAST_SEQ), ts: slow(HDR_TS), id: slow(HDR_ID), trace });
    }
    const decoded = msgs.map((m) => decodeLive('user:a', m));
    expect(decoded.map((d) => d?.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(decoded.map((d) => d?.prev)).toEqual([0, 1, 0, 3, 0, 5, 6]);
    expect(decoded.map((d) => d?.trace)).toEqual([
      undefined, undefined, undefined, undefined,
      { reqId: 'req-1', traceparent: TP, tracestate: 'rojo=1,congo=2' }, { reqId: 'req-2' }, undefined,
    ]);
    expect(decoded[0]).toMatchObject({ ts: 1700000000123, id: 'order-1', data: '{"x":1}' });
    expect(decoded[1]?.id).toBeUndefined();
    expect(decoded[2]).toMatchObject({ id: 'id with spaces: and colons', data: '"é ✓"' });
  });

  it('a message without headers decodes to nothing', async () => {
    const got = new Promise<Msg>((resolve) => {
      const sub = nc.subscribe('lh.plain', { max: 1, callback: (_err, m) => resolve(m) });
      void sub;
    });
    await nc.flush();
    nc.publish('lh.plain', 'x');
    const m = await got;
    expect(rawHeaderBlock(m)).toBeUndefined();
    expect(decodeLive('user:a', m)).toBeUndefined();
  });

  it('writes the request context as three headers, and spots a value that would break its line', () => {
    const h = headers();
    setTraceHeaders(h, { reqId: 'r-1', traceparent: TP, tracestate: 'a=1' });
    expect([h.get(HDR_REQUEST_ID), h.get(HDR_TRACEPARENT), h.get(HDR_TRACESTATE)]).toEqual(['r-1', TP, 'a=1']);
    const only = headers();
    setTraceHeaders(only, { reqId: 'r-2' });
    expect([only.has(HDR_REQUEST_ID), only.has(HDR_TRACEPARENT), only.has(HDR_TRACESTATE)]).toEqual([true, false, false]);
    expect(traceHasLineBreak({ reqId: 'r-1', traceparent: TP })).toBe(false);
    expect(traceHasLineBreak({ reqId: 'r\r\nX: y' })).toBe(true);
    expect(traceHasLineBreak({ reqId: 'r', tracestate: 'a=1\n' })).toBe(true);
  });

  it('headerValue matches whole header names at line starts only', () => {
    const block = 'NATS/1.0\r\nX-Note: Nats-Sequence: 9\r\nNats-Sequence:  42 \r\nNats-Sequence: 43\r\n\r\n';
    expect(headerValue(block, 'Nats-Sequence')).toBe('42');
    expect(headerValue(block, 'Nats-Seq')).toBeUndefined();
    expect(headerValue(block, 'Herald-Id')).toBeUndefined();
  });

  it('headerValue trims a value exactly like String.prototype.trim, on the fast path and off it', () => {
    const values = ['v', 'a b', ' x', '\tx\t', 'x ', '', ' ', 'é', ' \u00a0y\u00a0', 'Nats: 1'];
    for (const v of values) {
      for (const sep of [':', ': ', ':  ']) {
        const block = `NATS/1.0\r\nK${sep}${v}\r\nL: 2\r\n\r\n`;
        expect(headerValue(block, 'K')).toBe(`${sep.slice(1)}${v}`.trim());
        expect(headerValue(block.slice(0, -4), 'L')).toBe('2'); // last line without CRLF
      }
    }
  });
});
