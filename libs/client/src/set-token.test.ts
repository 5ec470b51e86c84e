// setToken() against the scripted server: `auth` on the live socket, forbidden topics retried only
// once the new token is accepted, and a socket lost before the answer.
import { describe, expect, it } from 'vitest';
import { NOW, fakeJwt, setup, tick, useScriptedClock } from './testing/harness.js';

useScriptedClock();

describe('HeraldClient.setToken', () => {
  it('sends auth, then subscribes again the forbidden topics; the gateway decides', async () => {
    const t = setup({ token: fakeJwt({ topics: ['a'] }) });
    const got: number[] = [];
    const b = t.client.subscribe('b', (m) => got.push(m.seq));
    t.client.subscribe('c', () => undefined);
    t.client.connect();
    await tick();
    t.server.last.ack('sub', { results: { 'topic:b': { ok: false, code: 'forbidden' }, 'topic:c': { ok: false, code: 'forbidden' } } });
    expect(await b.ready).toEqual({ ok: false, code: 'forbidden' });
    await tick(20_000); // refused topics stay idle: no retry loop
    expect(t.server.last.ofOp('sub')).toHaveLength(1);

    const wider = fakeJwt({ topics: ['a', 'b'] });
    const done = t.client.setToken(wider);
    await tick();
    expect(t.server.last.ofOp('auth')).toEqual([{ op: 'auth', id: expect.any(Number), token: wider }]);
    expect(t.server.last.ofOp('sub')).toHaveLength(1); // nothing before the gateway accepted it
    t.server.last.ack('auth', { exp: NOW / 1000 + 3600 });
    await done;
    await tick();
    expect(t.server.last.ofOp('sub').at(-1)).toMatchObject({ op: 'sub', topics: ['b', 'c'] });
    t.server.last.ack('sub', { results: { 'topic:b': { ok: true, seq: 10 }, 'topic:c': { ok: false, code: 'forbidden' } } });
    expect(t.errors.at(-1)).toMatchObject({ code: 'forbidden', topic: 'c' });
    t.server.last.msg('topic:b', 11, 10);
    expect(got).toEqual([11]);
    expect(t.server.sockets).toHaveLength(1);
  });

  it('rejects a refused token and keeps the previous one for the next connection', async () => {
    const first = fakeJwt({ topics: ['a'] });
    const t = setup({ token: first });
    t.client.connect();
    await tick();
    const done = t.client.setToken(fakeJwt({ sub: 'other' }));
    await tick();
    const auth = t.server.last.ofOp('auth')[0] as { id: number };
    t.server.last.push({ op: 'err', id: auth.id, code: 'token_mismatch', message: 'token is for another user' });
    await expect(done).rejects.toMatchObject({ code: 'token_mismatch' });
    t.server.last.serverClose(1012);
    await tick(30_000);
    expect(t.server.last.protocols).toEqual(['herald.v1', 'herald.bearer.' + first]);
  });

  it('resolves when the socket is lost before the answer, and reconnects with the new token', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    const next = fakeJwt({ n: 2 });
    const done = t.client.setToken(next);
    await tick();
    t.server.last.serverClose(1012);
    await done;
    await tick(30_000);
    expect(t.server.sockets).toHaveLength(2);
    expect(t.server.last.protocols).toEqual(['herald.v1', 'herald.bearer.' + next]);
  });
});
