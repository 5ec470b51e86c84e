// registerPush against fakes of the browser's pushManager and a real HTTP server standing in
// for the publish API's two push routes (the real routes are tested in services/publish-api).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base64UrlToBytes, fetchVapidPublicKey, PushRegistrationError, registerPush, unregisterPush, type PushRegistrationTarget } from './push.js';

const KEY = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';
let server: Server;
let url = '';
const posted: { auth: string | undefined; body: unknown }[] = [];
let vapidStatus = 200;
let postStatus = 201;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/push/vapid-public-key') {
      res.writeHead(vapidStatus, { 'content-type': 'application/json' }).end(JSON.stringify(vapidStatus === 200 ? { publicKey: KEY } : { error: { code: 'not_found' } }));
      return;
    }
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      posted.push({ auth: req.headers.authorization, body: JSON.parse(text) as unknown });
      res.writeHead(postStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'sub-1' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface FakeSub { options: { applicationServerKey: ArrayBuffer | null }; unsubscribed: boolean; toJSON(): PushSubscriptionJSON; unsubscribe(): Promise<boolean> }

function fakeSub(key: Uint8Array, endpoint: string): FakeSub {
  const sub: FakeSub = {
    options: { applicationServerKey: key.slice().buffer },
    unsubscribed: false,
    toJSON: () => ({ endpoint, keys: { p256dh: 'p', auth: 'a' }, expirationTime: null }),
    unsubscribe: () => {
      sub.unsubscribed = true;
      return Promise.resolve(true);
    },
  };
  return sub;
}

function fakeRegistration(existing: FakeSub | null, fail?: string): { reg: PushRegistrationTarget; subscribed: Uint8Array[] } {
  const subscribed: Uint8Array[] = [];
  let current = existing;
  const pushManager = {
    getSubscription: () => Promise.resolve(current),
    subscribe: (o: { applicationServerKey: Uint8Array }) => {
      if (fail) return Promise.reject(Object.assign(new Error(fail), { name: fail }));
      subscribed.push(o.applicationServerKey);
      current = fakeSub(o.applicationServerKey, 'https://push.example.com/new');
      return Promise.resolve(current);
    },
  };
  return { reg: { pushManager } as unknown as PushRegistrationTarget, subscribed };
}

describe('registerPush', () => {
  it('reads the key, subscribes with it and registers with the user token', async () => {
    posted.length = 0;
    const { reg, subscribed } = fakeRegistration(null);
    const r = await registerPush({ url, token: () => 'user-token', registration: reg });
    expect(r.id).toBe('sub-1');
    expect(subscribed).toHaveLength(1);
    expect([...(subscribed[0] ?? [])]).toEqual([...base64UrlToBytes(KEY)]);
    expect(subscribed[0]?.length).toBe(65);
    expect(posted).toEqual([{ auth: 'Bearer user-token', body: { endpoint: 'https://push.example.com/new', keys: { p256dh: 'p', auth: 'a' }, expirationTime: null } }]);
  });

  it('reuses a subscription made with the same key, replaces one made with another', async () => {
    const same = fakeSub(base64UrlToBytes(KEY), 'https://push.example.com/kept');
    const a = fakeRegistration(same);
    expect((await registerPush({ url, token: 't', registration: a.reg })).subscription.endpoint).toBe('https://push.example.com/kept');
    expect(a.subscribed).toHaveLength(0);
    const other = fakeSub(new Uint8Array(65).fill(4), 'https://push.example.com/old');
    const b = fakeRegistration(other);
    expect((await registerPush({ url, token: 't', registration: b.reg })).subscription.endpoint).toBe('https://push.example.com/new');
    expect(other.unsubscribed).toBe(true);
  });

  it('reports refusals with codes', async () => {
    await expect(registerPush({ url, token: 't', registration: fakeRegistration(null, 'NotAllowedError').reg })).rejects.toMatchObject({ code: 'denied' });
    await expect(registerPush({ url, token: 't', registration: fakeRegistration(null, 'AbortError').reg })).rejects.toMatchObject({ code: 'subscribe_failed' });
    postStatus = 401;
    await expect(registerPush({ url, token: 't', registration: fakeRegistration(null).reg })).rejects.toMatchObject({ code: 'rejected', status: 401 });
    postStatus = 201;
    vapidStatus = 404;
    await expect(fetchVapidPublicKey(url)).rejects.toBeInstanceOf(PushRegistrationError);
    await expect(registerPush({ url, token: 't', registration: fakeRegistration(null).reg })).rejects.toMatchObject({ code: 'not_configured' });
    vapidStatus = 200;
    await expect(registerPush({ url: 'http://127.0.0.1:1', token: 't', vapidPublicKey: KEY, registration: fakeRegistration(null).reg })).rejects.toMatchObject({ code: 'network' });
    // No service worker in Node: unsupported.
    await expect(registerPush({ url, token: 't' })).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('a push service that never answers: subscribe_failed after subscribeTimeoutMs, not a wait forever', async () => {
    const silent: PushRegistrationTarget = {
      pushManager: { getSubscription: () => Promise.resolve(null), subscribe: () => new Promise<PushSubscription>(() => undefined) },
    };
    const started = Date.now();
    await expect(registerPush({ url, token: 't', registration: silent, subscribeTimeoutMs: 50 })).rejects.toMatchObject({ code: 'subscribe_failed', message: expect.stringContaining('50 ms') as string });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('unregisters the current subscription', async () => {
    const sub = fakeSub(base64UrlToBytes(KEY), 'https://push.example.com/x');
    expect(await unregisterPush(fakeRegistration(sub).reg)).toBe(true);
    expect(sub.unsubscribed).toBe(true);
    expect(await unregisterPush(fakeRegistration(null).reg)).toBe(false);
  });
});
