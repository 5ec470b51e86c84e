// Every request and answer here is checked against GET /v1/openapi.json, served by a real publish API process:
// good requests must satisfy the document, bad ones that JSON Schema can see must not, and every answer
// (status and body) must be one the document lists for that route.
import { randomUUID } from 'node:crypto';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type Answer, type Api } from './helpers.js';

// ajv-formats is CommonJS: under ESM its plugin is the `default` of module.exports.
const addFormats = addFormatsModule.default;

type Schema = Record<string, unknown>;
interface Operation {
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  parameters?: { name: string; in: 'query' | 'header'; required: boolean; schema: Schema }[];
  responses: Record<string, { content: { 'application/json': { schema: Schema } } }>;
}

let api: Api;
let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);

beforeAll(async () => {
  api = await startApi({ HERALD_MAX_BATCH: '3', HERALD_MAX_TARGETS: '4' });
  const res = await fetch(`${api.base}/v1/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as typeof doc;
});

afterAll(async () => {
  await api?.proc.kill();
});

function operation(method: 'get' | 'post', path: string): Operation {
  const op = doc.paths[path]?.[method];
  if (op === undefined) throw new Error(`${method} ${path} is not in the document`);
  return op;
}

function valid(schema: Schema, value: unknown): boolean {
  return ajv.validate(schema, value);
}

/** The query (or header) parameters of an operation as one object schema. */
function querySchema(op: Operation, where: 'query' | 'header' = 'query'): Schema {
  const params = (op.parameters ?? []).filter((p) => p.in === where);
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    required: params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
}

/** Asserts the answer is documented: its status is listed for the route and its body fits that status's schema. */
function expectDocumentedAnswer(op: Operation, a: Answer): void {
  const documented = op.responses[String(a.status)];
  expect(documented, `status ${a.status} undocumented: ${a.text}`).toBeDefined();
  const schema = documented?.content['application/json'].schema ?? {};
  expect(valid(schema, a.body), `${a.text}: ${ajv.errorsText()}`).toBe(true);
}

async function post(path: string, body: unknown, requestValid: boolean, status: number, headers: Record<string, string> = {}): Promise<Answer> {
  const op = operation('post', path);
  const schema = op.requestBody?.content['application/json'].schema ?? {};
  expect(valid(schema, body), `request ${JSON.stringify(body)}: ${ajv.errorsText()}`).toBe(requestValid);
  const a = await api.post(path, body, headers);
  expect(a.status, a.text).toBe(status);
  expectDocumentedAnswer(op, a);
  return a;
}

async function get(path: string, query: Record<string, string>, requestValid: boolean, status: number, headers: Record<string, string> = {}): Promise<Answer> {
  const op = operation('get', path);
  expect(valid(querySchema(op), query), `query ${JSON.stringify(query)}: ${ajv.errorsText()}`).toBe(requestValid);
  const a = await api.get(`${path}?${new URLSearchParams(query).toString()}`, headers);
  expect(a.status, a.text).toBe(status);
  expectDocumentedAnswer(op, a);
  return a;
}

const fresh = (): string => `t-${randomUUID().slice(0, 8)}`;

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1, served without an API key, with the limits of the configuration', () => {
    expect(doc.openapi).toBe('3.1.0');
    const batch = operation('post', '/v1/publish/batch').requestBody?.content['application/json'].schema as { properties: { messages: { maxItems: number } } };
    expect(batch.properties.messages.maxItems).toBe(3);
  });

  it('describes publish requests and answers', async () => {
    const topic = fresh();
    await post('/v1/publish', { topic, data: { n: 1 } }, true, 200);
    await post('/v1/publish', { topics: [topic, fresh()], data: null, id: 'order-1' }, true, 200);
    const dup = await post('/v1/publish', { topics: [topic, fresh()], data: null, id: 'order-1' }, true, 200);
    expect(JSON.stringify(dup.body)).toContain('"duplicate":true');
    await post('/v1/publish', { users: ['42', 'ünï'], data: 'hi' }, true, 200);
    await post('/v1/publish', { topic }, false, 400);
    await post('/v1/publish', { topic, data: 1, extra: true }, false, 400);
    await post('/v1/publish', { topic: 'a..b', data: 1 }, false, 400);
    await post('/v1/publish', { topics: ['a', 'b', 'c', 'd', 'e'], data: 1 }, false, 400);
    await post('/v1/publish', { topic, data: 1, id: 'has space' }, false, 400);
    await post('/v1/publish', { topic, data: 1 }, true, 401, { authorization: 'Bearer wrong' });
    await post('/v1/publish', { topic, data: 1 }, true, 415, { 'content-type': 'text/plain' });
    await post('/v1/publish', { topic, data: 'x'.repeat(70_000) }, true, 413);
  });

  it('describes batch requests and answers', async () => {
    const topic = fresh();
    await post('/v1/publish/batch', { messages: [{ topic, data: 1 }, { user: '7', data: 2, id: 'b-1' }] }, true, 200);
    await post('/v1/publish/batch', { messages: [] }, false, 400);
    await post('/v1/publish/batch', { messages: [{ topic, data: 1 }, { topic: 'a*', data: 2 }] }, false, 400);
    await post('/v1/publish/batch', { messages: [1, 2, 3, 4].map((n) => ({ topic, data: n })) }, false, 400);
  });

  it('describes history, presence and disconnect', async () => {
    const topic = fresh();
    await post('/v1/publish', { topic, data: { a: 1 }, id: 'h-1' }, true, 200);
    const h = await get('/v1/history', { ch: `topic:${topic}`, since: '0', limit: '10' }, true, 200);
    expect((h.body as { messages: unknown[] }).messages).toHaveLength(1);
    await get('/v1/history', { ch: `topic:${topic}` }, true, 200);
    await get('/v1/history', {}, false, 400);
    await get('/v1/history', { ch: `topic:${topic}`, limit: 'ten' }, false, 400);
    await get('/v1/presence', { user: '42' }, true, 200);
    await get('/v1/presence', { topic }, true, 200);
    await get('/v1/presence', { topic, extra: '1' }, false, 400);
    await get('/v1/presence', { topic }, true, 401, { authorization: '' });
    await post('/v1/disconnect', { user: '42' }, true, 200);
    await post('/v1/disconnect', { user: '42', code: 4003, reason: 'bye' }, true, 200);
    await post('/v1/disconnect', { code: 4003 }, false, 400);
  });

  it('describes the request id and trace context headers every route takes', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const op of [operation('post', '/v1/publish'), operation('post', '/v1/publish/batch'), operation('get', '/v1/history')]) {
      const headers = querySchema(op, 'header');
      expect(valid({ ...headers, additionalProperties: true }, { 'x-request-id': 'req-1', traceparent, tracestate: 'rojo=1' }), ajv.errorsText()).toBe(true);
      expect(valid({ ...headers, additionalProperties: true }, { 'x-request-id': 'has space' })).toBe(false);
      expect(valid({ ...headers, additionalProperties: true }, { 'x-request-id': 'x'.repeat(129) })).toBe(false);
      expect(valid({ ...headers, additionalProperties: true }, { traceparent: 'garbage' })).toBe(false);
    }
    const a = await post('/v1/publish', { topic: fresh(), data: 1 }, true, 200, { 'x-request-id': 'req-1', traceparent });
    expect(a.headers.get('x-request-id')).toBe('req-1');
    const replaced = await post('/v1/publish', { topic: fresh(), data: 1 }, true, 200, { 'x-request-id': 'has space' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f]{6}-[0-9a-z]+$/);
    const refused = await post('/v1/publish', { topic: 'a..b', data: 1 }, false, 400, { 'x-request-id': 'req-2' });
    expect(refused.headers.get('x-request-id')).toBe('req-2');
  });

  it('lists the answer to a wrong method', async () => {
    const a = await api.get('/v1/publish');
    expect(a.status).toBe(405);
    expectDocumentedAnswer(operation('post', '/v1/publish'), a);
  });
});
