import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_ID_CHARS, MAX_TRACESTATE_CHARS, boundedTracestate, formatTraceparent, isValidRequestId, parseTraceparent } from './trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('isValidRequestId', () => {
  it('accepts visible ASCII up to the bound', () => {
    expect(isValidRequestId('req-1_abc.DEF:42/x')).toBe(true);
    expect(isValidRequestId('x'.repeat(MAX_REQUEST_ID_CHARS))).toBe(true);
  });
  it('refuses empty, too long, spaces, controls, CR/LF and non-ASCII', () => {
    for (const bad of ['', 'x'.repeat(MAX_REQUEST_ID_CHARS + 1), 'a b', 'a\tb', 'a\r\nb', 'caf\u00e9', 'a\u0000b', '\u007f']) {
      expect(isValidRequestId(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('parseTraceparent', () => {
  it('reads a version-00 header', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags).toBe(0);
  });
  it('round-trips through formatTraceparent', () => {
    const p = parseTraceparent(VALID);
    expect(p && formatTraceparent(p)).toBe(VALID);
  });
  it('refuses malformed values', () => {
    const bad = [
      '', 'garbage', VALID.toUpperCase(), `${VALID}-extra`, ` ${VALID}`, `${VALID} `,
      `00-${'0'.repeat(32)}-${SPAN}-01`, // all-zero trace id
      `00-${TRACE}-${'0'.repeat(16)}-01`, // all-zero parent id
      `ff-${TRACE}-${SPAN}-01`, // forbidden version
      `0g-${TRACE}-${SPAN}-01`, `00-${TRACE.slice(1)}x-${SPAN}-01`, `00-${TRACE}-${SPAN}-0x`,
      `00_${TRACE}-${SPAN}-01`, `00-${TRACE}_${SPAN}-01`, `00-${TRACE}-${SPAN}_01`, `00-${TRACE}-${SPAN}-1`,
    ];
    for (const v of bad) expect(parseTraceparent(v), v).toBeUndefined();
  });
  it('reads a later version by its version-00 prefix (forward compatibility)', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-the-future-holds`)).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01x`)).toBeUndefined();
  });
});

describe('boundedTracestate', () => {
  it('passes a bounded printable list on as it is', () => {
    expect(boundedTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });
  it('drops empty, oversized and unprintable values', () => {
    for (const bad of ['', '   ', 'a=b\r\nx: y', 'a=\u00e9', 'a='.padEnd(MAX_TRACESTATE_CHARS + 1, 'x')]) expect(boundedTracestate(bad)).toBeUndefined();
  });
});
