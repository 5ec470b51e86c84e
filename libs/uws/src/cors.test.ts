import { describe, expect, it } from 'vitest';
import { corsVerdict, type CorsPolicy } from './cors.js';
import { originAllowList } from './http.js';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const allowed = originAllowList([APP]);
const any = originAllowList(undefined);

/** As the publish API's browser routes (docs/push.md#cors). */
const REFUSE: CorsPolicy = {
  allowMethods: 'POST',
  allowHeaders: 'authorization, content-type, x-request-id, traceparent, tracestate',
  exposeHeaders: 'x-request-id, retry-after',
  otherOrigins: 'refuse',
};
/** As the gateway's POST /v1/inbox/receipts (docs/protocol.md#inbox). */
const IGNORE: CorsPolicy = { allowMethods: 'POST', allowHeaders: 'authorization, content-type', otherOrigins: 'ignore' };

describe('corsVerdict, refusing other origins (publish API)', () => {
  it('an allowed origin: Allow-Origin, Expose-Headers and Vary on every answer', () => {
    expect(corsVerdict(REFUSE, 'GET', APP, allowed)).toEqual({
      kind: 'pass',
      headers: [['access-control-allow-origin', APP], ['access-control-expose-headers', 'x-request-id, retry-after'], ['vary', 'origin']],
    });
  });

  it('its preflight: 204 with the methods, the request headers and a max age of 600 s; no credentials', () => {
    const v = corsVerdict(REFUSE, 'OPTIONS', APP, allowed);
    expect(v).toEqual({
      kind: 'preflight',
      headers: [
        ['access-control-allow-origin', APP],
        ['access-control-expose-headers', 'x-request-id, retry-after'],
        ['vary', 'origin'],
        ['access-control-allow-methods', 'POST'],
        ['access-control-allow-headers', 'authorization, content-type, x-request-id, traceparent, tracestate'],
        ['access-control-max-age', '600'],
      ],
    });
    expect(v.headers.map(([k]) => k)).not.toContain('access-control-allow-credentials');
  });

  it('echoes the Origin as the browser spelt it, however the allow-list spells it', () => {
    const spelt = 'HTTPS://App.Example.com/';
    expect(corsVerdict(REFUSE, 'OPTIONS', spelt, allowed).headers[0]).toEqual(['access-control-allow-origin', spelt]);
  });

  it('another origin: 403 origin_not_allowed with Vary and without Allow-Origin, preflight or not', () => {
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      expect(corsVerdict(REFUSE, method, EVIL, allowed)).toEqual({ kind: 'refuse', code: 'origin_not_allowed', message: 'origin not allowed', headers: [['vary', 'origin']] });
    }
  });

  it('no Origin (not a browser): passes with Vary only; an OPTIONS without Origin passes bare (no preflight)', () => {
    expect(corsVerdict(REFUSE, 'POST', '', allowed)).toEqual({ kind: 'pass', headers: [['vary', 'origin']] });
    expect(corsVerdict(REFUSE, 'OPTIONS', '', allowed)).toEqual({ kind: 'pass', headers: [] });
  });

  it('an allow-list that allows any origin allows this one', () => {
    expect(corsVerdict(REFUSE, 'GET', EVIL, any).kind).toBe('pass');
    expect(corsVerdict(REFUSE, 'GET', EVIL, any).headers[0]).toEqual(['access-control-allow-origin', EVIL]);
  });
});

describe('corsVerdict, ignoring other origins (gateway receipts)', () => {
  it('an allowed origin: Allow-Origin and Vary, no Expose-Headers when the policy has none', () => {
    expect(corsVerdict(IGNORE, 'POST', APP, allowed)).toEqual({ kind: 'pass', headers: [['access-control-allow-origin', APP], ['vary', 'origin']] });
  });

  it('its preflight: the policy\'s methods and headers, max age 600 s', () => {
    expect(corsVerdict(IGNORE, 'OPTIONS', APP, allowed)).toEqual({
      kind: 'preflight',
      headers: [
        ['access-control-allow-origin', APP],
        ['vary', 'origin'],
        ['access-control-allow-methods', 'POST'],
        ['access-control-allow-headers', 'authorization, content-type'],
        ['access-control-max-age', '600'],
      ],
    });
  });

  it('another origin is answered as one without Origin: no CORS header at all, never a 403', () => {
    for (const method of ['POST', 'OPTIONS']) {
      expect(corsVerdict(IGNORE, method, EVIL, allowed)).toEqual({ kind: 'pass', headers: [] });
      expect(corsVerdict(IGNORE, method, '', allowed)).toEqual({ kind: 'pass', headers: [] });
    }
  });
});
