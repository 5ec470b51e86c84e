// Unit tests of the handshake shared by the WebSocket upgrade and SSE: step order, slot accounting, refusals from the catalogue.
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '@herald/auth';
import { createMetricsRegistry } from '@herald/telemetry';
import type { HttpResponse } from '@herald/uws';
import { mint, SECRET } from '../../test/helpers.js';
import { silentLog } from '../../test/unit-helpers.js';
import { createGatewayMetrics } from '../metrics.js';
import { Admission } from './admission.js';
import { Handshake, NOT_ABORTED } from './handshake.js';
import { refusal } from './refusal.js';
import { Connections } from './registry.js';

const HEAD = { origin: '', ip: '10.0.0.1', protocol: '', authorization: '', query: '' };

function setup(opts: { perUser?: number; sync?: boolean } = {}): { hs: Handshake; admission: Admission; connections: Connections; outcomes: () => Promise<Record<string, number>> } {
  const connections = new Connections(100, opts.perUser ?? 2);
  const admission = new Admission({ allowedOrigins: ['https://ok.example'], connections, upgradeRate: 1000, perIpRate: undefined });
  const hmac = createTokenVerifier({ hmacSecret: SECRET, clockToleranceSec: 0 });
  // Without verifySync the handshake must take the asynchronous path (as with public keys or JWKS).
  const verifier = opts.sync === false ? { verify: (t: string) => hmac.verify(t) } : hmac;
  const metrics = createGatewayMetrics(createMetricsRegistry());
  const hs = new Handshake({ admission, connections, verifier, outcomes: metrics.upgrades, log: silentLog, name: 'upgrade' });
  const outcomes = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.upgrades.get()).values.map((v) => [String(v.labels['result']), v.value]));
  return { hs, admission, connections, outcomes };
}

describe('Handshake', () => {
  it('gates before anything else: admission, then the transport check, then the token', () => {
    const { hs, admission } = setup();
    const bad = refusal('invalid_query', 'bad');
    expect(hs.open({ ...HEAD, origin: 'https://evil.example' }, () => bad)).toEqual({ refusal: expect.objectContaining({ status: 403, code: 'origin_not_allowed' }) });
    expect(hs.open(HEAD, () => bad)).toEqual({ refusal: bad });
    expect(hs.open(HEAD)).toEqual({ refusal: expect.objectContaining({ status: 401, code: 'token_missing' }) });
    expect(hs.open({ ...HEAD, query: 'token=abc' })).toEqual({ jwt: 'abc' });
    admission.draining = true;
    expect(hs.open({ ...HEAD, query: 'token=abc' })).toEqual({ refusal: expect.objectContaining({ status: 503, code: 'draining', retryAfterS: 1 }) });
  });

  it('verifies synchronously with an HMAC secret and reserves the per-user slot', () => {
    const { hs, connections } = setup({ perUser: 1 });
    const jwt = mint({ sub: 'u1' });
    expect(hs.admitNow(jwt)).toMatchObject({ ok: true, token: { sub: 'u1' } });
    expect(connections.admitted).toBe(1);
    expect(hs.admitNow(jwt)).toEqual({ ok: false, refusal: expect.objectContaining({ status: 429, code: 'too_many_connections' }) });
    expect(hs.admitNow('x.y.z')).toEqual({ ok: false, refusal: expect.objectContaining({ status: 401, code: 'token_invalid' }) });
    expect(connections.admitted).toBe(1);
  });

  it('without a synchronous verifier: admits after the await, counting the request against capacity meanwhile', async () => {
    const { hs, connections } = setup({ sync: false });
    expect(hs.admitNow(mint())).toBeUndefined();
    const pending = hs.admit(mint({ sub: 'u1' }), { aborted: false });
    expect(connections.hasRoom()).toBe(true);
    expect(await pending).toMatchObject({ ok: true, token: { sub: 'u1' } });
    expect(connections.admitted).toBe(1);
  });

  it('after the await: an abort answers nothing, draining refuses, the token check refuses before any slot is taken', async () => {
    const { hs, admission, connections } = setup({ sync: false });
    const guard = { aborted: false };
    const aborted = hs.admit(mint(), guard);
    guard.aborted = true;
    expect(await aborted).toEqual({ ok: false, refusal: undefined });
    const forbidden = refusal('forbidden', 'no');
    expect(await hs.admit(mint(), { aborted: false }, () => forbidden)).toEqual({ ok: false, refusal: forbidden });
    const draining = hs.admit(mint(), { aborted: false });
    admission.draining = true;
    expect(await draining).toEqual({ ok: false, refusal: expect.objectContaining({ code: 'draining' }) });
    expect(connections.admitted).toBe(0);
  });

  it('writes a refusal as the error object with Retry-After after the transport headers, and counts it', async () => {
    const { hs, outcomes } = setup();
    const written: string[] = [];
    const res = {
      cork: (cb: () => void) => (cb(), res),
      writeStatus: (s: string) => (written.push(s), res),
      writeHeader: (k: string, v: string) => (written.push(`${k}: ${v}`), res),
      end: (body: string) => (written.push(body), res),
    };
    hs.refuse(res as unknown as HttpResponse, NOT_ABORTED, refusal('overloaded', 'full', 5), '10.0.0.1', [['vary', 'origin']]);
    expect(written[0]).toMatch(/^503/);
    expect(written).toContain('vary: origin');
    expect(written.indexOf('retry-after: 5')).toBeGreaterThan(written.indexOf('vary: origin'));
    expect(written.at(-1)).toBe('{"error":{"code":"overloaded","message":"full"}}');
    hs.aborted();
    hs.accepted();
    expect(await outcomes()).toEqual({ '503': 1, aborted: 1, ok: 1 });
  });
});
