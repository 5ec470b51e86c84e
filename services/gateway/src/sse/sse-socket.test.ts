// Unit tests of the SSE stream behind the socket face: event framing, ids, backpressure accounting, close and abort.
import { describe, expect, it } from 'vitest';
import type { HttpResponse } from '@herald/uws';
import { CloseCode } from '@herald/protocol';
import { verified } from '../../test/unit-helpers.js';
import { newConnState, type ConnState } from '../conn/state.js';
import { SseRegistry } from './registry.js';
import { SSE_RETRY_MS, SseSocket } from './sse-socket.js';

/** The HttpResponse calls an SSE stream makes, recorded; `writeOk` is what `write` answers. */
class FakeResponse {
  readonly out: string[] = [];
  readonly headers: [string, string][] = [];
  status = '';
  writeOk = true;
  ended = false;
  closed = false;
  writable: (() => boolean) | undefined;
  writeStatus(s: string): this {
    this.status = s;
    return this;
  }
  writeHeader(k: string, v: string): this {
    this.headers.push([k, v]);
    return this;
  }
  write(chunk: string | Buffer): boolean {
    this.out.push(chunk.toString());
    return this.writeOk;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  close(): this {
    this.closed = true;
    return this;
  }
  cork(cb: () => void): this {
    cb();
    return this;
  }
  onWritable(cb: () => boolean): this {
    this.writable = cb;
    return this;
  }
}

async function stream(): Promise<{ res: FakeResponse; sock: SseSocket; st: ConnState; closes: number[]; registry: SseRegistry }> {
  const res = new FakeResponse();
  const st = newConnState('c1', await verified({ sub: 'u1' }), 0, Date.now());
  const closes: number[] = [];
  const registry = new SseRegistry({ sendMsg: () => true });
  const sock = new SseSocket(res as unknown as HttpResponse, st, {
    registry, epoch: 'E1', channels: ['user:u1', 'topic:a'], onClose: (code) => void closes.push(code),
  });
  st.ws = sock;
  return { res, sock, st, closes, registry };
}

describe('SseSocket', () => {
  it('starts with status, headers, retry, the starting id and the welcome event', async () => {
    const { res, sock } = await stream();
    sock.advance('topic:a', 5);
    sock.start([['content-type', 'text/event-stream']], '{"op":"welcome"}');
    expect(res.status).toBe('200 OK');
    expect(res.headers).toEqual([['content-type', 'text/event-stream']]);
    expect(res.out.join('')).toBe(`retry: ${SSE_RETRY_MS}\nid: ${sock.eventId()}\nevent: welcome\ndata: {"op":"welcome"}\n\n`);
  });

  it('writes frames as events named by op, hb as a comment, and msg with a fresh id', async () => {
    const { res, sock } = await stream();
    const before = sock.eventId();
    expect(sock.send('{"op":"refresh","exp":9}')).toBe(1);
    expect(sock.send('{"op":"hb"}')).toBe(1);
    expect(sock.sendMsg('topic:a', 3, '{"op":"msg","seq":3}')).toBe(1);
    expect(sock.eventId()).not.toBe(before);
    expect(res.out.join('')).toBe(`event: refresh\ndata: {"op":"refresh","exp":9}\n\n: hb\n\nid: ${sock.eventId()}\nevent: msg\ndata: {"op":"msg","seq":3}\n\n`);
  });

  it('never moves a channel position backwards', async () => {
    const { sock } = await stream();
    sock.advance('topic:a', 5);
    const at5 = sock.eventId();
    sock.advance('topic:a', 4);
    sock.advance('topic:unknown', 9);
    expect(sock.eventId()).toBe(at5);
  });

  it('counts bytes as buffered from a refused write until a write succeeds', async () => {
    const { res, sock } = await stream();
    sock.start([], '{"op":"welcome"}');
    res.writeOk = false;
    expect(sock.send('{"op":"refresh","exp":9}')).toBe(0);
    expect(sock.getBufferedAmount()).toBeGreaterThan(0);
    res.writeOk = true;
    expect(res.writable?.()).toBe(true);
    expect(sock.getBufferedAmount()).toBe(0);
  });

  it('subscribe registers the stream for fan-out once; end leaves every channel, writes the close event, and runs onClose once', async () => {
    const { res, sock, st, closes, registry } = await stream();
    expect(sock.subscribe('topic:a')).toBe(true);
    expect(sock.subscribe('topic:a')).toBe(false);
    expect(registry.count('topic:a')).toBe(1);
    sock.end(4001, 'token expired');
    sock.end(4001, 'again');
    expect(registry.count('topic:a')).toBe(0);
    expect(res.out.join('')).toBe('event: close\ndata: {"op":"close","code":4001,"reason":"token expired"}\n\n');
    expect(res.ended).toBe(true);
    expect(closes).toEqual([4001]);
    expect(sock.send('{"op":"hb"}')).toBe(1);
    expect(res.out.length).toBe(1);
    expect(st.ws).toBe(sock);
  });

  it('a slow consumer is cut without a close event', async () => {
    const { res, sock, closes } = await stream();
    sock.end(CloseCode.SlowConsumer, 'slow consumer');
    expect(res.closed).toBe(true);
    expect(res.out).toEqual([]);
    expect(closes).toEqual([CloseCode.SlowConsumer]);
  });

  it('an abort never writes and reports 1001 once', async () => {
    const { res, sock, closes, registry } = await stream();
    sock.subscribe('user:u1');
    sock.aborted();
    sock.aborted();
    sock.end(1000);
    expect(res.out).toEqual([]);
    expect(closes).toEqual([1001]);
    expect(registry.count('user:u1')).toBe(0);
  });
});
