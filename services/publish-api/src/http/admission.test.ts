// Unit tests of the pre-body checks: method, API key, rate limit, media type, declared size, JSON decoding.
import { describe, expect, it } from 'vitest';
import { admit, isJsonContentType, parseJsonBody, type AdmissionDeps, type RequestHead } from './admission.js';
import { createApiKeyCheck } from './api-keys.js';
import { RateLimiter } from './rate-limit.js';
import type { Route } from './route.js';

const KEY = 'test-key-0123456789';
const post: Route = { path: '/v1/publish', method: 'POST', name: 'publish', handle: () => Promise.reject(new Error('not called')) };
const get: Route = { ...post, path: '/v1/history', method: 'GET', name: 'history' };
const deps = (limiter = new RateLimiter(0)): AdmissionDeps => ({ checkKey: createApiKeyCheck([KEY]), limiter, maxBodyBytes: 1000 });
const head = (over: Partial<RequestHead> = {}): RequestHead => ({
  method: 'POST', authorization: `Bearer ${KEY}`, contentType: 'application/json', contentLength: '10', ...over,
});

function status(h: RequestHead, route = post, d = deps()): number {
  const a = admit(h, route, d);
  return a.ok ? 200 : a.result.status;
}

describe('admit', () => {
  it('admits a good request and names the key', () => {
    expect(admit(head(), post, deps())).toEqual({ ok: true, keyIndex: 0 });
    expect(status(head({ method: 'GET', contentType: '' }), get)).toBe(200);
  });

  it('checks in the order 405, 401, 429, 415, 413', () => {
    const bad = head({ method: 'GET', authorization: '', contentType: 'text/plain', contentLength: '5000' });
    expect(status(bad)).toBe(405);
    expect(status({ ...bad, method: 'POST' })).toBe(401);
    const limiter = new RateLimiter(1, 1, () => 0);
    limiter.take(0);
    expect(status({ ...bad, method: 'POST', authorization: `Bearer ${KEY}` }, post, deps(limiter))).toBe(429);
    expect(status({ ...bad, method: 'POST', authorization: `Bearer ${KEY}` })).toBe(415);
    expect(status({ ...bad, method: 'POST', authorization: `Bearer ${KEY}`, contentType: 'application/json' })).toBe(413);
  });

  it('sends Allow, WWW-Authenticate and Retry-After', () => {
    const h405 = admit(head({ method: 'PUT' }), post, deps());
    expect(!h405.ok && h405.result.headers).toEqual([['allow', 'POST']]);
    const h401 = admit(head({ authorization: 'Bearer nope-nope-nope-nope' }), post, deps());
    expect(!h401.ok && h401.result.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) as string } });
    expect(!h401.ok && h401.result.headers).toEqual([['www-authenticate', 'Bearer']]);
    const limiter = new RateLimiter(1, 1, () => 0);
    limiter.take(0);
    const h429 = admit(head(), post, deps(limiter));
    expect(!h429.ok && h429.result.headers).toEqual([['retry-after', '1']]);
  });

  it('closes the connection on a declared oversized body', () => {
    const a = admit(head({ contentLength: '1001' }), post, deps());
    expect(!a.ok && a.result).toMatchObject({ status: 413, code: 'body_too_large', close: true });
    expect(status(head({ contentLength: '1000' }))).toBe(200);
  });
});

describe('isJsonContentType', () => {
  it.each(['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'application/json; charset=utf8'])('accepts %s', (ct) => {
    expect(isJsonContentType(ct)).toBe(true);
  });
  it.each(['', 'text/plain', 'application/jsonx', 'application/json-patch+json', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'])('refuses %s', (ct) => {
    expect(isJsonContentType(ct)).toBe(false);
  });
});

describe('parseJsonBody', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  it('parses JSON', () => {
    expect(parseJsonBody(enc('{"a":[1]}'))).toEqual({ ok: true, value: { a: [1] } });
  });
  it.each([
    ['empty', new Uint8Array(0)],
    ['not JSON', enc('{"a":')],
    ['trailing garbage', enc('{} x')],
    ['invalid UTF-8', Uint8Array.of(0x7b, 0xff, 0x7d)],
  ])('refuses %s', (_name, body) => {
    expect(parseJsonBody(body)).toMatchObject({ ok: false, code: 'invalid_body' });
  });
});
