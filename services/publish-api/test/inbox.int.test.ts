// The inbox routes over real HTTP (docs/publish-api.md#inbox): the publish API process on a real
// nats-server, and `herald dev` (memory). Tests assume `turbo build` ran first.
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { signToken } from '@herald/auth';
import { generateVapidKeys, openKvPush } from '@herald/push';
import { generateUaKeys, spawnService, startNatsServer, type NatsServerHandle } from '@herald/testkit';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, apiClient, errorCode, startApi, type Api, type Answer } from './helpers.js';

const HERALD_CLI = fileURLToPath(new URL('../../herald/dist/cli.js', import.meta.url));
const JWT_SECRET = 'inbox-test-secret-4d1f9a7c2e8b';
const vapid = generateVapidKeys();
const ENV = {
  HERALD_JWT_SECRET: JWT_SECRET, HERALD_VAPID_PUBLIC_KEY: vapid.publicKey, HERALD_VAPID_PRIVATE_KEY: vapid.privateKey, HERALD_VAPID_SUBJECT: 'mailto:ops@example.com',
};

/** An HS256 token with any claims (signToken refuses an expired one). */
function hs256(claims: Record<string, unknown>): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${head}.${createHmac('sha256', JWT_SECRET).update(head).digest('base64url')}`;
}

interface Result { ch: string; seq: number; id: string; duplicate?: true }
interface Listing { user: string; delivered: number; read: number; messages: { seq: number; id: string; ts: number; exp?: number; state: string; data: unknown }[]; next?: number }

async function del(api: Api, path: string, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }): Promise<Answer> {
  const res = await fetch(api.base + path, { method: 'DELETE', headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined, text };
}

const inboxPath = (user: string): string => `/v1/users/${encodeURIComponent(user)}/inbox`;
let n = 0;

function inboxSuite(name: string, getApi: () => Api, extra?: (api: () => Api) => void): void {
  describe(`inbox routes: ${name}`, () => {
    it('publish with inbox stores per user, answers inbox:<user> with seq and id, and a repeated id once', async () => {
      const api = getApi();
      const a = `ann.${++n} é/x`;
      const b = `bob-${n}`;
      const r = await api.post('/v1/publish', { users: [a, b], inbox: true, id: `order-${n}`, data: { order: n } });
      expect(r.status).toBe(200);
      const results = (r.body as { results: Result[] }).results;
      expect(results.map((x) => [x.ch, x.id])).toEqual([[`inbox:${a}`, `order-${n}`], [`inbox:${b}`, `order-${n}`]]);
      const again = await api.post('/v1/publish', { user: a, inbox: true, id: `order-${n}`, data: { order: 'again' } });
      expect((again.body as { results: Result[] }).results[0]).toEqual({ ch: `inbox:${a}`, seq: results[0]?.seq, id: `order-${n}`, duplicate: true });
      const gen = await api.post('/v1/publish', { user: a, inbox: { ttl: 60 }, data: 'second' });
      const genResult = (gen.body as { results: Result[] }).results[0];
      expect(genResult?.id).toMatch(/^m_[A-Za-z0-9_-]{22}$/);

      const listed = await api.get(inboxPath(a));
      expect(listed.status).toBe(200);
      const body = listed.body as Listing;
      expect(body).toMatchObject({ user: a, delivered: 0, read: 0 });
      expect(body.messages.map((m) => [m.seq, m.id, m.state, m.data])).toEqual([[results[0]?.seq, `order-${n}`, 'pending', { order: n }], [genResult?.seq, genResult?.id, 'pending', 'second']]);
      const second = body.messages[1];
      expect((second?.exp ?? 0) - (second?.ts ?? 0)).toBe(60_000);
      expect(body.next).toBeUndefined();

      const page = (await api.get(`${inboxPath(a)}?limit=1`)).body as Listing;
      expect(page.messages).toHaveLength(1);
      expect(page.next).toBe(results[0]?.seq);
      const page2 = (await api.get(`${inboxPath(a)}?limit=1&after=${page.next}&state=pending`)).body as Listing;
      expect(page2.messages.map((m) => m.seq)).toEqual([genResult?.seq]);
      expect(((await api.get(`${inboxPath(a)}?state=read`)).body as Listing).messages).toEqual([]);
    });

    it('retracts with DELETE, then 404', async () => {
      const api = getApi();
      const u = `del-${++n}`;
      await api.post('/v1/publish', { user: u, inbox: true, id: 'gone-soon', data: 1 });
      const path = `${inboxPath(u)}/${encodeURIComponent('gone-soon')}`;
      expect(await del(api, path)).toMatchObject({ status: 200, body: { deleted: true } });
      const again = await del(api, path);
      expect(again.status).toBe(404);
      expect(errorCode(again)).toBe('not_found');
      expect(((await api.get(inboxPath(u))).body as Listing).messages).toEqual([]);
      expect((await del(api, path, {})).status).toBe(401);
    });

    it('a batch mixes inbox and channel messages, results in order', async () => {
      const api = getApi();
      const u = `mix-${++n}`;
      const r = await api.post('/v1/publish/batch', { messages: [{ topic: 'news', data: 1 }, { user: u, inbox: true, data: 2 }, { user: u, data: 3 }] });
      expect(r.status).toBe(200);
      const results = (r.body as { results: { results: Result[] }[] }).results;
      expect(results.map((x) => x.results[0]?.ch)).toEqual(['topic:news', `inbox:${u}`, `user:${u}`]);
      expect(((await api.get(inboxPath(u))).body as Listing).messages.map((m) => m.data)).toEqual([2]);
    });

    it('refuses inbox on topics, bad inbox values, bad queries and bad paths', async () => {
      const api = getApi();
      const topic = await api.post('/v1/publish', { topic: 'news', inbox: true, data: 1 });
      expect([topic.status, errorCode(topic)]).toEqual([400, 'invalid_target']);
      for (const inbox of [false, { ttl: 0 }, { ttl: 1.5 }, { other: 1 }, 'yes']) {
        const r = await api.post('/v1/publish', { user: 'u', inbox, data: 1 });
        expect([r.status, errorCode(r)]).toEqual([400, 'invalid_body']);
      }
      for (const q of ['limit=0', 'limit=1001', 'state=new', 'after=-1', 'foo=1']) {
        const r = await api.get(`${inboxPath('u')}?${q}`);
        expect([q, r.status, errorCode(r)]).toEqual([q, 400, 'invalid_query']);
      }
      const badUser = await api.get('/v1/users/%ZZ/inbox');
      expect([badUser.status, errorCode(badUser)]).toEqual([400, 'invalid_target']);
      expect((await api.get(inboxPath('u'), { authorization: 'Bearer nope-nope-nope-nope' })).status).toBe(401);
    });

    it('Web Push: the VAPID public key, and registration with the user token', async () => {
      const api = getApi();
      expect(await api.get('/v1/push/vapid-public-key', { authorization: '' })).toMatchObject({ status: 200, body: { publicKey: vapid.publicKey } });
      const ua = generateUaKeys();
      const sub = { endpoint: `https://push.example.com/send/${++n}`, keys: { p256dh: ua.publicKey.toString('base64url'), auth: ua.authSecret.toString('base64url') }, expirationTime: null };
      const token = await signToken({ secret: JWT_SECRET, sub: `pushy-${n}`, ttlSec: 60 });
      const ok = await api.post('/v1/push-subscriptions', sub, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(201);
      expect((ok.body as { id: string }).id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const missing = await api.post('/v1/push-subscriptions', sub, { authorization: '' });
      expect([missing.status, errorCode(missing)]).toEqual([401, 'token_missing']);
      const apiKeyInstead = await api.post('/v1/push-subscriptions', sub, { authorization: `Bearer ${API_KEY}` });
      expect([apiKeyInstead.status, errorCode(apiKeyInstead)]).toEqual([401, 'token_invalid']);
      const expired = hs256({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 60 });
      expect(errorCode(await api.post('/v1/push-subscriptions', sub, { authorization: `Bearer ${expired}` }))).toBe('token_expired');
      const bad = await api.post('/v1/push-subscriptions', { ...sub, endpoint: 'http://10.0.0.1/x' }, { authorization: `Bearer ${token}` });
      expect([bad.status, errorCode(bad)]).toEqual([400, 'invalid_body']);
    });

    extra?.(getApi);
  });
}

describe('publish API on NATS', () => {
  let nats: NatsServerHandle;
  let api: Api;
  beforeAll(async () => {
    nats = await startNatsServer();
    api = await startApi({ HERALD_NATS_URL: nats.url, HERALD_NODE_ID: 'pub-inbox', ...ENV });
  });
  afterAll(async () => {
    await api?.proc.kill();
    await nats?.stop();
  });
  inboxSuite('NATS', () => api, (getApi) => {
    it('answers as GET /v1/openapi.json documents them (ajv, JSON Schema 2020-12)', async () => {
      type Op = { responses: Record<string, { content: { 'application/json': { schema: Record<string, unknown> } } }> };
      const doc = (await (await fetch(`${getApi().base}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, Op>> };
      const ajv = new Ajv2020({ allErrors: true, strict: true });
      addFormatsModule.default(ajv);
      const check = (path: string, method: string, a: Answer): void => {
        const schema = doc.paths[path]?.[method]?.responses[String(a.status)]?.content['application/json'].schema;
        expect(schema, `${method} ${path} ${a.status} undocumented`).toBeDefined();
        expect(ajv.validate(schema ?? {}, a.body), `${method} ${path} ${a.status}: ${ajv.errorsText()} in ${a.text}`).toBe(true);
      };
      const u = `doc-${++n}`;
      const pub = await getApi().post('/v1/publish', { user: u, inbox: { ttl: 5 }, id: 'doc-1', data: { a: 1 } });
      check('/v1/publish', 'post', pub);
      check('/v1/publish', 'post', await getApi().post('/v1/publish', { topic: 'x', inbox: true, data: 1 }));
      check('/v1/users/{id}/inbox', 'get', await getApi().get(`${inboxPath(u)}?limit=1`));
      check('/v1/users/{id}/inbox', 'get', await getApi().get(`${inboxPath(u)}?limit=0`));
      check('/v1/users/{id}/inbox/{msgId}', 'delete', await del(getApi(), `${inboxPath(u)}/doc-1`));
      check('/v1/users/{id}/inbox/{msgId}', 'delete', await del(getApi(), `${inboxPath(u)}/doc-1`));
      check('/v1/push/vapid-public-key', 'get', await getApi().get('/v1/push/vapid-public-key'));
      const ua = generateUaKeys();
      const sub = { endpoint: 'https://push.example.com/doc', keys: { p256dh: ua.publicKey.toString('base64url'), auth: ua.authSecret.toString('base64url') } };
      const token = await signToken({ secret: JWT_SECRET, sub: u, ttlSec: 60 });
      check('/v1/push-subscriptions', 'post', await getApi().post('/v1/push-subscriptions', sub, { authorization: `Bearer ${token}` }));
      check('/v1/push-subscriptions', 'post', await getApi().post('/v1/push-subscriptions', sub, { authorization: '' }));
      check('/v1/push-subscriptions', 'post', await getApi().post('/v1/push-subscriptions', { endpoint: 1 }, { authorization: `Bearer ${token}` }));
    });

    it('keeps inbox messages in the inbox stream and subscriptions in the KV bucket, so another replica sees them', async () => {
      const u = `replica-${++n}`;
      const first = await getApi().post('/v1/publish', { user: u, inbox: true, data: 'kept' });
      expect(first.status).toBe(200);
      const other = await startApi({ HERALD_NATS_URL: nats.url, HERALD_NODE_ID: 'pub-inbox-2', ...ENV });
      try {
        expect(((await other.get(inboxPath(u))).body as Listing).messages.map((m) => m.data)).toEqual(['kept']);
        const ua = generateUaKeys();
        const token = await signToken({ secret: JWT_SECRET, sub: u, ttlSec: 60 });
        const r = await other.post('/v1/push-subscriptions', { endpoint: 'https://push.example.com/r', keys: { p256dh: ua.publicKey.toString('base64url'), auth: ua.authSecret.toString('base64url') } }, { authorization: `Bearer ${token}` });
        expect(r.status).toBe(201);
        const nc = await connect({ servers: nats.url });
        try {
          const { store } = await openKvPush({ nc });
          expect((await store.list(u)).map((s) => s.endpoint)).toEqual(['https://push.example.com/r']);
        } finally {
          await nc.close();
        }
      } finally {
        await other.proc.kill();
      }
    });
  });
});

describe('CORS of the browser routes (Web Push key and registration)', () => {
  let nats: NatsServerHandle;
  let open: Api;
  let restricted: Api;
  const app = 'https://app.example.com';
  const preflight = (api: Api, path: string, origin: string): Promise<Response> =>
    fetch(api.base + path, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
  beforeAll(async () => {
    nats = await startNatsServer();
    [open, restricted] = await Promise.all([
      startApi({ HERALD_NATS_URL: nats.url, HERALD_NODE_ID: 'cors-any', ...ENV }),
      startApi({ HERALD_NATS_URL: nats.url, HERALD_NODE_ID: 'cors-one', HERALD_ALLOWED_ORIGINS: app, ...ENV }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([open?.proc.kill(), restricted?.proc.kill()]);
    await nats?.stop();
  });

  it('a page on another origin may read the key and register: preflight 204, Access-Control-Allow-Origin on the answers', async () => {
    const pre = await preflight(open, '/v1/push-subscriptions', app);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(app);
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const key = await fetch(`${open.base}/v1/push/vapid-public-key`, { headers: { origin: app } });
    expect(key.status).toBe(200);
    expect(key.headers.get('access-control-allow-origin')).toBe(app);
    expect(key.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const token = await signToken({ secret: JWT_SECRET, sub: `cors-${++n}`, ttlSec: 60 });
    const ua = generateUaKeys();
    const reg = await fetch(`${open.base}/v1/push-subscriptions`, {
      method: 'POST',
      headers: { origin: app, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'https://push.example.com/cors', keys: { p256dh: ua.publicKey.toString('base64url'), auth: ua.authSecret.toString('base64url') } }),
    });
    expect(reg.status).toBe(201);
    expect(reg.headers.get('access-control-allow-origin')).toBe(app);
    // a refusal carries the header too, so the page can read why
    const bad = await fetch(`${open.base}/v1/push-subscriptions`, { method: 'POST', headers: { origin: app, 'content-type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('access-control-allow-origin')).toBe(app);
  });

  it('no CORS without an Origin, and none on the API-key routes', async () => {
    const key = await fetch(`${open.base}/v1/push/vapid-public-key`);
    expect(key.headers.get('access-control-allow-origin')).toBeNull();
    const pub = await fetch(`${open.base}/v1/publish`, {
      method: 'POST', headers: { origin: app, authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'cors', data: 1 }),
    });
    expect(pub.status).toBe(200);
    expect(pub.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(open, '/v1/publish', app)).status).toBe(405);
  });

  it('HERALD_ALLOWED_ORIGINS: another origin is refused 403 origin_not_allowed; the listed one passes however it is spelt', async () => {
    const evil = await fetch(`${restricted.base}/v1/push/vapid-public-key`, { headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(restricted, '/v1/push-subscriptions', 'https://evil.example')).status).toBe(403);
    const spelt = 'HTTPS://App.Example.com/';
    const ok = await preflight(restricted, '/v1/push-subscriptions', spelt);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(spelt);
    expect((await fetch(`${restricted.base}/v1/push/vapid-public-key`)).status).toBe(200); // not a browser
  });
});

describe('herald dev (memory)', () => {
  let api: Api;
  beforeAll(async () => {
    const proc = await spawnService({ args: [HERALD_CLI, 'dev'], env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: API_KEY, ...ENV } });
    api = apiClient(proc);
  });
  afterAll(async () => {
    await api?.proc.kill();
  });
  inboxSuite('herald dev', () => api);
});
