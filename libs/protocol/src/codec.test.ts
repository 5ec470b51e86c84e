import { describe, expect, it } from 'vitest';
import { decodeClientFrame, encodeMsgFrame, type DecodeResult } from './codec.js';
import { closeReaction, CLOSE_REACTIONS, CloseCode } from './close-codes.js';

const limits = { maxFrameBytes: 16 * 1024 };
const dec = (v: unknown): DecodeResult => decodeClientFrame(typeof v === 'string' ? v : JSON.stringify(v), false, limits);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('decodeClientFrame: fatal input closes the connection', () => {
  it('binary → 1003', () => {
    expect(decodeClientFrame(bytes('{"op":"ping","id":1}'), true, limits)).toMatchObject({ ok: false, fatal: true, closeCode: 1003 });
  });
  it('oversized → 1009, measured in UTF-8 bytes', () => {
    expect(dec('x'.repeat(16 * 1024 + 1))).toMatchObject({ fatal: true, closeCode: 1009 });
    const multibyte = JSON.stringify({ op: 'ping', id: 1, pad: 'é'.repeat(8200) });
    expect(dec(multibyte)).toMatchObject({ fatal: true, closeCode: 1009 });
  });
  it('invalid UTF-8, not JSON, not an object → 1007', () => {
    expect(decodeClientFrame(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), false, limits)).toMatchObject({ fatal: true, closeCode: 1007 });
    for (const t of ['{', 'nope', '[]', '"s"', '1', 'null', '']) expect(dec(t), t).toMatchObject({ fatal: true, closeCode: 1007 });
  });
});

describe('decodeClientFrame: well-formed frames', () => {
  it('decodes each op', () => {
    expect(dec({ op: 'ping', id: 'p' })).toEqual({ ok: true, frame: { op: 'ping', id: 'p' } });
    expect(dec({ op: 'auth', id: 2, token: 'abc' })).toEqual({ ok: true, frame: { op: 'auth', id: 2, token: 'abc' } });
    expect(dec({ op: 'unsub', id: 3, topics: ['a'] })).toEqual({ ok: true, frame: { op: 'unsub', id: 3, topics: ['a'] } });
    expect(dec({ op: 'sub', id: 4, topics: ['a', 'b.c'], since: { 'topic:a': 5, 'user:x.y': 0 }, epoch: 'e1' })).toEqual({
      ok: true,
      frame: { op: 'sub', id: 4, topics: ['a', 'b.c'], since: { 'topic:a': 5, 'user:x.y': 0 }, epoch: 'e1' },
    });
  });
  it('reads the bytes uWS hands over (ArrayBuffer)', () => {
    const buf = bytes('{"op":"ping","id":7}');
    expect(decodeClientFrame(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, false, limits)).toMatchObject({ ok: true });
  });
  it('leaves topic names to per-topic results (one bad name does not fail the frame)', () => {
    expect(dec({ op: 'sub', id: 1, topics: ['ok', 'bad..name'] })).toMatchObject({ ok: true });
  });
});

describe('decodeClientFrame: recoverable errors keep the connection', () => {
  const cases: [string, unknown, string][] = [
    ['unknown op', { op: 'dance', id: 1 }, 'unknown_op'],
    ['missing id', { op: 'ping' }, 'invalid'],
    ['id too long', { op: 'ping', id: 'x'.repeat(65) }, 'invalid'],
    ['fractional id', { op: 'ping', id: 1.5 }, 'invalid'],
    ['missing op', { id: 1 }, 'invalid'],
    ['topics not an array', { op: 'sub', id: 1, topics: 'news' }, 'invalid'],
    ['topic not a string', { op: 'sub', id: 1, topics: [1] }, 'invalid'],
    ['too many topics', { op: 'sub', id: 1, topics: Array.from({ length: 101 }, (_, i) => `t${i}`) }, 'limit'],
    ['empty unsub', { op: 'unsub', id: 1, topics: [] }, 'invalid'],
    ['since not an object', { op: 'sub', id: 1, topics: [], since: [1] }, 'invalid'],
    ['since bad channel', { op: 'sub', id: 1, topics: [], since: { news: 1 } }, 'invalid'],
    ['since negative', { op: 'sub', id: 1, topics: [], since: { 'topic:a': -1 } }, 'invalid'],
    ['since fractional', { op: 'sub', id: 1, topics: [], since: { 'topic:a': 1.5 } }, 'invalid'],
    ['epoch not a string', { op: 'sub', id: 1, topics: [], epoch: 5 }, 'invalid'],
    ['empty token', { op: 'auth', id: 1, token: '' }, 'invalid'],
  ];
  it.each(cases)('%s', (_name, frame, code) => {
    const r = dec(frame);
    expect(r).toMatchObject({ ok: false, fatal: false, code });
  });
  it('echoes a usable id', () => {
    expect(dec({ op: 'dance', id: 'x1' })).toMatchObject({ id: 'x1' });
  });
  it('does not let __proto__ keys in since pollute anything', () => {
    const r = dec('{"op":"sub","id":1,"topics":[],"since":{"__proto__":{"x":1}}}');
    expect(r).toMatchObject({ ok: false, code: 'invalid' });
    expect(({} as Record<string, unknown>)['x']).toBeUndefined();
  });
});

describe('decodeClientFrame never throws on random input', () => {
  it('survives 5,000 random byte strings and JSON-ish mutations', () => {
    let seed = 42;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const pieces = ['{', '}', '[', ']', '"op"', ':', '"sub"', ',', '"id"', '1', '"topics"', 'null', '"since"', '\\u0000', '"\\ud800"', '1e999', '-0'];
    for (let i = 0; i < 5000; i++) {
      const raw = i % 2 === 0 ? new Uint8Array(Array.from({ length: rnd(64) }, () => rnd(256))) : bytes(Array.from({ length: rnd(20) }, () => pieces[rnd(pieces.length)]).join(''));
      const r = decodeClientFrame(raw, false, limits);
      expect(typeof r.ok).toBe('boolean');
    }
  });
});

describe('encodeMsgFrame', () => {
  it('builds the same JSON as a serializer would, without re-encoding data', () => {
    const text = encodeMsgFrame('user:a"b', 12, 7, '{"x":[1,2]}', 1700000000000, 'key-1');
    expect(JSON.parse(text)).toEqual({ op: 'msg', ch: 'user:a"b', seq: 12, prev: 7, ts: 1700000000000, id: 'key-1', data: { x: [1, 2] } });
    expect(JSON.parse(encodeMsgFrame('topic:n', 1, 0, 'null', 1))).not.toHaveProperty('id');
  });

  it('adds the `conflated` flag only when asked', () => {
    expect(JSON.parse(encodeMsgFrame('topic:p', 9, 8, '1', 5, undefined, true))).toEqual({ op: 'msg', ch: 'topic:p', seq: 9, prev: 8, conflated: true, ts: 5, data: 1 });
    expect(JSON.parse(encodeMsgFrame('topic:p', 9, 8, '1', 5, 'k', false))).not.toHaveProperty('conflated');
  });
});

describe('close codes', () => {
  it('tells a client what to do for each code of the contract', () => {
    expect(closeReaction(CloseCode.TokenExpired)).toBe('new-token');
    expect(closeReaction(CloseCode.Forbidden)).toBe('ask-app');
    expect(closeReaction(CloseCode.RateLimited)).toBe('reconnect-slow');
    expect(closeReaction(CloseCode.TooManyConnections)).toBe('stop');
    expect(closeReaction(1006)).toBe('reconnect');
    expect(Object.keys(CLOSE_REACTIONS)).toHaveLength(Object.keys(CloseCode).length);
  });
});
