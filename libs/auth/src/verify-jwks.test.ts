// Unit tests for verify.ts with a remote JWKS served by a real local HTTP server: caching, kid rotation, rate limit, failures.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeKeyPair, rejection, secretBytes, sign } from '../test/helpers.js';
import { createTokenVerifier, type TokenVerifier } from './verify.js';

type Mode = 'ok' | 'error500' | 'not-json' | 'hang';

const k1 = makeKeyPair('ES256');
const k2 = makeKeyPair('RS256');
const k3 = makeKeyPair('EdDSA');
const jwkOf = (p: ReturnType<typeof makeKeyPair>, kid: string): Record<string, unknown> => ({ ...p.jwk, kid, use: 'sig' });

let server: Server;
let url = '';
let requests = 0;
let mode: Mode = 'ok';
let keys: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url !== '/jwks.json') return void res.writeHead(404).end();
    if (mode === 'hang') return; // never answers: the client times out
    if (mode === 'error500') return void res.writeHead(500).end('oops');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(mode === 'not-json' ? '<html>' : JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = 0;
  mode = 'ok';
  keys = [jwkOf(k1, 'k1')];
  // Only Date is faked: jose's cooldown and cache age read Date.now(); sockets and timeouts stay real.
  vi.useFakeTimers({ toFake: ['Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

const tokenFor = (p: ReturnType<typeof makeKeyPair>, alg: string, kid: string): Promise<string> =>
  sign(p.privateKey, alg, { sub: `user-${kid}` }, { kid });

describe('createTokenVerifier with a JWKS URL', () => {
  let v: TokenVerifier;
  beforeEach(() => {
    v = createTokenVerifier({ jwksUrl: url });
  });

  it('fetches once and serves later tokens from the cache', async () => {
    expect((await v.verify(await tokenFor(k1, 'ES256', 'k1'))).sub).toBe('user-k1');
    expect((await v.verify(await tokenFor(k1, 'ES256', 'k1'))).sub).toBe('user-k1');
    expect(requests).toBe(1);
  });

  it('fetches once for concurrent first verifications', async () => {
    const t = await tokenFor(k1, 'ES256', 'k1');
    const all = await Promise.all(Array.from({ length: 20 }, () => v.verify(t)));
    expect(all.every((r) => r.sub === 'user-k1')).toBe(true);
    expect(requests).toBe(1);
  });

  it('refetches on an unknown kid after rotation, rate-limited by the cooldown', async () => {
    await v.verify(await tokenFor(k1, 'ES256', 'k1'));
    expect(requests).toBe(1);
    keys = [jwkOf(k1, 'k1'), jwkOf(k2, 'k2')]; // the issuer rotates in k2
    advance(31_000); // past the default 30 s cooldown
    expect((await v.verify(await tokenFor(k2, 'RS256', 'k2'))).sub).toBe('user-k2');
    expect(requests).toBe(2);

    keys = [jwkOf(k2, 'k2'), jwkOf(k3, 'k3')]; // k3 appears, k1 retires
    const t3 = await tokenFor(k3, 'EdDSA', 'k3');
    for (let i = 0; i < 10; i++) expect((await rejection(v.verify(t3), t3)).code).toBe('token_invalid');
    expect(requests).toBe(2); // inside the cooldown: no refetch however many unknown kids arrive

    advance(31_000);
    expect((await v.verify(t3)).sub).toBe('user-k3');
    expect(requests).toBe(3);
    expect((await v.verify(await tokenFor(k2, 'RS256', 'k2'))).sub).toBe('user-k2');
    const old = await tokenFor(k1, 'ES256', 'k1');
    expect((await rejection(v.verify(old), old)).code).toBe('token_invalid'); // retired key
    expect(requests).toBe(3);
  });

  it('honours a custom cooldown', async () => {
    const fast = createTokenVerifier({ jwksUrl: url, jwksCooldownMs: 1000 });
    await fast.verify(await tokenFor(k1, 'ES256', 'k1'));
    const unknown = await tokenFor(k2, 'RS256', 'nope');
    await rejection(fast.verify(unknown));
    expect(requests).toBe(1);
    advance(1500);
    expect((await rejection(fast.verify(unknown), unknown)).code).toBe('token_invalid');
    expect(requests).toBe(2);
  });

  it('refetches when the cache is older than jwksCacheMaxAgeMs', async () => {
    const short = createTokenVerifier({ jwksUrl: url, jwksCacheMaxAgeMs: 60_000 });
    const t = await tokenFor(k1, 'ES256', 'k1');
    await short.verify(t);
    advance(30_000);
    await short.verify(await tokenFor(k1, 'ES256', 'k1'));
    expect(requests).toBe(1);
    advance(31_000);
    await short.verify(await tokenFor(k1, 'ES256', 'k1'));
    expect(requests).toBe(2);
  });

  it('refuses an unknown kid', async () => {
    const t = await tokenFor(k1, 'ES256', 'unknown');
    expect((await rejection(v.verify(t), t)).code).toBe('token_invalid');
  });

  it('refuses a token signed by a key outside the set', async () => {
    const t = await tokenFor(makeKeyPair('ES256'), 'ES256', 'k1');
    expect((await rejection(v.verify(t), t)).code).toBe('token_invalid');
  });

  it('refuses HMAC tokens outright', async () => {
    const t = await sign(secretBytes(JSON.stringify(k1.jwk)), 'HS256', {}, { kid: 'k1' });
    expect((await rejection(v.verify(t), t)).code).toBe('alg_not_allowed');
    expect(requests).toBe(0);
  });

  it.each(['error500', 'not-json'] as const)('maps a failed fetch (%s) to key_unavailable', async (m) => {
    mode = m;
    const { code, error } = await rejection(v.verify(await tokenFor(k1, 'ES256', 'k1')));
    expect(code).toBe('key_unavailable');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('maps a JWKS timeout to key_unavailable', async () => {
    mode = 'hang';
    const slow = createTokenVerifier({ jwksUrl: url, jwksTimeoutMs: 100 });
    expect((await rejection(slow.verify(await tokenFor(k1, 'ES256', 'k1')))).code).toBe('key_unavailable');
  });

  it('maps an unreachable JWKS host to key_unavailable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now
    const down = createTokenVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
    expect((await rejection(down.verify(await tokenFor(k1, 'ES256', 'k1')))).code).toBe('key_unavailable');
  });

  it('recovers once the JWKS endpoint is back', async () => {
    mode = 'error500';
    const t = await tokenFor(k1, 'ES256', 'k1');
    expect((await rejection(v.verify(t))).code).toBe('key_unavailable');
    mode = 'ok';
    expect((await v.verify(t)).sub).toBe('user-k1');
  });
});
