// Upgrade handshake against a real in-process gateway: token transports, welcome, every refusal with its body.
import { afterEach, describe, expect, it } from 'vitest';
import { connectWs, openWs, refusedWs, WsTestClient, type Refusal } from '@herald/testkit';
import { mint, nowSec, sleep, startTestGateway, type TestGateway } from './helpers.js';

let gw: TestGateway | undefined;
const clients: WsTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestGateway> {
  gw = await startTestGateway(env);
  return gw;
}

function errorCode(r: Refusal): string {
  return (JSON.parse(r.body) as { error: { code: string; message: string } }).error.code;
}

describe('token transports and welcome', () => {
  it('accepts the token as subprotocol (selecting herald.v1 only), header or query; welcome has every field', async () => {
    const { url } = await start({ HEARTBEAT_MS: '7000' });
    const exp = nowSec() + 600;
    for (const via of ['protocol', 'header', 'query'] as const) {
      const c = await connectWs(url, { token: mint({ sub: `via-${via}`, exp }), via });
      clients.push(c);
      expect(c.frames[0]).toMatchObject({ op: 'welcome', node: 'gw-test', user: `via-${via}`, heartbeat: 7000, exp });
      const w = c.frames[0] as { conn: string; epoch: string; recovered?: boolean };
      expect(w.conn).toMatch(/^gw-test\./);
      expect(w.epoch).toBe(gw?.bus.epoch());
      expect(w.recovered).toBeUndefined();
      expect(c.ws.protocol).toBe(via === 'protocol' ? 'herald.v1' : '');
    }
  });

  it('prefers the subprotocol token over the header and the query', async () => {
    const { url } = await start();
    const c = await connectWs(url, { token: mint({ sub: 'from-protocol' }), headers: { authorization: `Bearer ${mint({ sub: 'from-header' })}` }, query: { token: mint({ sub: 'from-query' }) } });
    clients.push(c);
    expect(c.frames[0]).toMatchObject({ user: 'from-protocol' });
  });

  it('delivers welcome after the asynchronous upgrade on every one of many parallel connections (uWebSockets.js#1108)', async () => {
    const { url } = await start();
    const many = await Promise.all(Array.from({ length: 60 }, (_, i) => connectWs(url, { token: mint({ sub: `p${i % 6}` }) })));
    clients.push(...many);
    await Promise.all(many.map((c, i) => c.request({ op: 'ping', id: i })));
    await sleep(50);
    for (const c of many) {
      expect(c.frames[0]?.op).toBe('welcome');
      expect(c.closeInfo).toBeUndefined();
    }
  });

  it('never writes a token into the logs', async () => {
    const g = await start();
    const token = mint({ sub: 'secretive' });
    clients.push(await connectWs(g.url, { token, via: 'query' }));
    await refusedWs(g.url, { token: mint({ exp: nowSec() - 10 }) });
    expect(g.logs.length).toBeGreaterThan(0);
    for (const line of g.logs) expect(line).not.toContain(token.split('.')[2]);
  });
});

describe('refusals during the upgrade', () => {
  it('401 for each token failure, with the error body', async () => {
    const { url } = await start({ JWT_AUDIENCE: 'herald' });
    const cases: [string, string | undefined][] = [
      ['token_missing', undefined],
      ['token_invalid', 'not-a-jwt'],
      ['token_expired', mint({ aud: 'herald', exp: nowSec() - 30 })],
      ['token_invalid', mint({ aud: 'herald' }, { secret: 'another-secret-of-sufficient-length-000' })],
      ['alg_not_allowed', mint({ aud: 'herald' }, { alg: 'none' })],
      ['claims_invalid', mint({ aud: 'someone-else' })],
      ['claims_invalid', mint({ aud: 'herald', nbf: nowSec() + 600 })],
    ];
    for (const [code, token] of cases) {
      const r = await refusedWs(url, token === undefined ? {} : { token });
      expect(r.status, code).toBe(401);
      expect(errorCode(r), code).toBe(code);
      expect(r.headers['content-type']).toBe('application/json');
    }
    expect(await gw?.metric('herald_upgrades_total', { result: '401' })).toBe(cases.length);
    // The refusal reason is the wire code.
    for (const code of new Set(cases.map(([c]) => c))) {
      expect(await gw?.metric('herald_upgrades_total', { result: '401', reason: code }), code).toBe(cases.filter(([c]) => c === code).length);
    }
  });

  it('403 for an Origin outside the allow-list; no Origin and allowed origins pass', async () => {
    const { url } = await start({ ALLOWED_ORIGINS: 'https://app.example.com, https://other.example.com' });
    const r = await refusedWs(url, { token: mint(), origin: 'https://evil.example.com' });
    expect(r.status).toBe(403);
    expect(errorCode(r)).toBe('origin_not_allowed');
    clients.push(await connectWs(url, { token: mint(), origin: 'https://app.example.com' }));
    clients.push(await connectWs(url, { token: mint() }));
  });

  it('429 at the per-user limit, also for parallel upgrades; a closed connection frees its slot', async () => {
    const { url } = await start({ MAX_CONNECTIONS_PER_USER: '2' });
    const attempts = await Promise.all(Array.from({ length: 5 }, () => openWs(url, { token: mint({ sub: 'greedy' }) })));
    const ok = attempts.filter((a): a is WsTestClient => a instanceof WsTestClient);
    const refused = attempts.filter((a): a is Refusal => !(a instanceof WsTestClient));
    clients.push(...ok);
    expect(ok).toHaveLength(2);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(errorCode(r)).toBe('too_many_connections');
    }
    clients.push(await connectWs(url, { token: mint({ sub: 'someone-else' }) }));
    await ok[0]?.close();
    await sleep(20);
    clients.push(await connectWs(url, { token: mint({ sub: 'greedy' }) }));
  });

  it('503 with Retry-After at the node connection limit', async () => {
    const { url } = await start({ MAX_CONNECTIONS: '2' });
    clients.push(await connectWs(url, { token: mint({ sub: 'a' }) }), await connectWs(url, { token: mint({ sub: 'b' }) }));
    const r = await refusedWs(url, { token: mint({ sub: 'c' }) });
    expect(r.status).toBe(503);
    expect(errorCode(r)).toBe('overloaded');
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('503 with Retry-After over the node upgrade rate; 429 over the per-IP rate', async () => {
    const a = await start({ UPGRADE_RATE: '2' });
    const burst = await Promise.all(Array.from({ length: 4 }, () => openWs(a.url, { token: mint() })));
    const refused = burst.filter((x): x is Refusal => !(x instanceof WsTestClient));
    clients.push(...burst.filter((x): x is WsTestClient => x instanceof WsTestClient));
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]?.status).toBe(503);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    await a.close();
    const b = await start({ MAX_UPGRADES_PER_IP_RATE: '1' });
    clients.push(await connectWs(b.url, { token: mint() }));
    const r = await refusedWs(b.url, { token: mint() });
    expect(r.status).toBe(429);
    expect(errorCode(r)).toBe('rate_limited');
    expect(r.headers['retry-after']).toBe('1');
  });

  it('503 with Retry-After and a failing /readyz while draining', async () => {
    const g = await start({ DRAIN_WINDOW_MS: '400', DRAIN_TIMEOUT_MS: '2000' });
    expect((await fetch(`${g.httpUrl}/readyz`)).status).toBe(200);
    const c = await connectWs(g.url, { token: mint() });
    clients.push(c);
    const drained = g.server.gateway.drain();
    const r = await refusedWs(g.url, { token: mint() });
    expect(r.status).toBe(503);
    expect(errorCode(r)).toBe('draining');
    expect(r.headers['retry-after']).toBe('1');
    const ready = await fetch(`${g.httpUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'draining' });
    expect(await g.metric('herald_draining')).toBe(1);
    await drained;
    expect((await c.closed).code).toBe(1012);
  });
});
