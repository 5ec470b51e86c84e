/**
 * The OpenAPI 3.1 document of the publish API (docs/publish-api.md#openapi). Request bodies and
 * query parameters are produced by `z.toJSONSchema` from the very zod schemas validation reads
 * (publish/schemas.ts, admin/schemas.ts), so the document cannot drift from what is enforced;
 * the answers come from responses.ts, which the integration suite checks against real answers.
 * Built once per configuration (the limits are part of the schemas) and served as is.
 */
import { MAX_REQUEST_ID_CHARS, MAX_TRACESTATE_CHARS } from '@herald/telemetry';
import { z } from 'zod';
import { DisconnectBody, HistoryQuery, PresenceQuery } from '../admin/schemas.js';
import { batchBodySchema, publishBodySchema, type BatchLimits } from '../publish/schemas.js';
import { BatchAnswer, DisconnectAnswer, HistoryAnswer, codesOf, errorAnswer, PresenceAnswer, PublishAnswer } from './responses.js';
import { InboxDeleteAnswer, InboxListAnswer, InboxListQuery, PushSubscriptionAnswer, PushSubscriptionBody, VapidKeyAnswer } from '../inbox/schemas.js';

type JsonSchema = Record<string, unknown>;

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, without its `$schema` line. */
function schemaOf(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // Refinements (topic grammar, user id bytes) cannot be expressed and are left out; their rule is in `description`.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const json = (schema: JsonSchema): JsonSchema => ({ 'application/json': { schema } });

/** Request id and W3C trace context, accepted by every route (docs/operations.md#request-ids-and-trace-context); rules in http/trace.ts and @herald/telemetry. */
const TRACE_PARAMETERS: readonly JsonSchema[] = [
  {
    name: 'x-request-id', in: 'header', required: false,
    description: `Echoed in the answer's x-request-id, logged and carried to the gateways; one that is not 1-${MAX_REQUEST_ID_CHARS} visible ASCII characters is replaced by a generated id`,
    schema: { type: 'string', minLength: 1, maxLength: MAX_REQUEST_ID_CHARS, pattern: '^[!-~]+$' },
  },
  {
    name: 'traceparent', in: 'header', required: false,
    description: 'W3C Trace Context parent; the request joins this trace (logs, NATS headers, spans with HERALD_TRACING=otel). An invalid one is ignored',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$' },
  },
  {
    name: 'tracestate', in: 'header', required: false, description: 'W3C Trace Context vendor state, passed on with a valid traceparent',
    schema: { type: 'string', maxLength: MAX_TRACESTATE_CHARS },
  },
];
/** Every answer carries the request id. */
const REQUEST_ID_HEADER = { 'x-request-id': { description: "The request's id: the client's x-request-id when valid, else a generated one", schema: { type: 'string' } } };

/** Error answers by status; each lists the wire codes it can carry (from the shared status table). */
function errorResponses(statuses: readonly number[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'string' } } };
  for (const status of statuses) {
    const codes = codesOf(status);
    out[String(status)] = { description: codes.join(', '), content: json(schemaOf(errorAnswer(codes), 'output')), headers: status === 429 || status === 503 ? { ...retryAfter, ...REQUEST_ID_HEADER } : REQUEST_ID_HEADER };
  }
  return out;
}

/**
 * The preflight of the routes browser pages call (docs/push.md#cors): 204 with the
 * Access-Control-Allow-* headers for an origin HERALD_ALLOWED_ORIGINS allows, 403 otherwise.
 */
const CORS_PREFLIGHT = {
  summary: 'CORS preflight of a page on another origin',
  security: [],
  responses: { 204: { description: 'Allowed: Access-Control-Allow-Origin, -Methods, -Headers and -Max-Age', headers: REQUEST_ID_HEADER }, ...errorResponses([403]) },
};

const POST_ERRORS = [400, 401, 405, 413, 415, 429, 500, 503] as const;
const GET_ERRORS = [400, 401, 405, 429, 500, 503] as const;

/** Query parameters from a zod object schema: one `in: query` parameter per property. */
function queryParameters(s: z.ZodType): JsonSchema[] {
  const schema = schemaOf(s, 'input') as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties).map(([name, p]) => ({
    name, in: 'query', required: schema.required?.includes(name) ?? false, schema: p,
    ...(typeof p['description'] === 'string' ? { description: p['description'] } : {}),
  }));
}

function post(summary: string, body: z.ZodType, answer: z.ZodType): JsonSchema {
  return {
    summary,
    parameters: TRACE_PARAMETERS,
    requestBody: { required: true, content: json(schemaOf(body, 'input')) },
    responses: { 200: { description: 'OK', headers: REQUEST_ID_HEADER, content: json(schemaOf(answer, 'output')) }, ...errorResponses(POST_ERRORS) },
  };
}

function get(summary: string, query: z.ZodType, answer: z.ZodType): JsonSchema {
  return {
    summary,
    parameters: [...queryParameters(query), ...TRACE_PARAMETERS],
    responses: { 200: { description: 'OK', headers: REQUEST_ID_HEADER, content: json(schemaOf(answer, 'output')) }, ...errorResponses(GET_ERRORS) },
  };
}

/** The inbox and Web Push routes (docs/publish-api.md#inbox). */
function inboxPaths(): Record<string, JsonSchema> {
  const userParam = { name: 'id', in: 'path', required: true, description: 'User id, URL-encoded', schema: { type: 'string' } };
  const msgParam = { name: 'msgId', in: 'path', required: true, description: 'Message id (the publish id or the generated m_…), URL-encoded', schema: { type: 'string' } };
  const ok = (answer: z.ZodType, status = 200): Record<string, JsonSchema> => ({ [status]: { description: 'OK', headers: REQUEST_ID_HEADER, content: json(schemaOf(answer, 'output')) } });
  return {
    '/v1/users/{id}/inbox': {
      get: {
        summary: "A user's inbox with each message's state, oldest first, paginated",
        parameters: [userParam, ...queryParameters(InboxListQuery), ...TRACE_PARAMETERS],
        responses: { ...ok(InboxListAnswer), ...errorResponses(GET_ERRORS) },
      },
    },
    '/v1/users/{id}/inbox/{msgId}': {
      delete: {
        summary: 'Retract a message from a user inbox',
        parameters: [userParam, msgParam, ...TRACE_PARAMETERS],
        responses: { ...ok(InboxDeleteAnswer), ...errorResponses([...GET_ERRORS, 404]) },
      },
    },
    '/v1/push-subscriptions': {
      post: {
        summary: "Register a Web Push subscription for the token's user",
        security: [{ userToken: [] }],
        parameters: TRACE_PARAMETERS,
        requestBody: { required: true, content: json(schemaOf(PushSubscriptionBody, 'input')) },
        responses: { ...ok(PushSubscriptionAnswer, 201), ...errorResponses([400, 401, 403, 404, 405, 413, 415, 500, 503]) },
      },
      options: CORS_PREFLIGHT,
    },
    '/v1/push/vapid-public-key': {
      get: { summary: 'The VAPID public key for pushManager.subscribe', security: [], parameters: TRACE_PARAMETERS, responses: { ...ok(VapidKeyAnswer), ...errorResponses([403, 404, 405]) } },
      options: CORS_PREFLIGHT,
    },
  };
}

/** The whole document for one configuration's limits. */
export function openApiDocument(limits: BatchLimits, version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: { title: 'Herald publish API', version, description: 'See docs/publish-api.md. Every route but this document needs `Authorization: Bearer <API key>`.' },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'One of HERALD_API_KEYS' },
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "The user's token, verified with the gateway's HERALD_JWT_* settings" },
      },
    },
    security: [{ apiKey: [] }],
    paths: {
      '/v1/publish': { post: post('Publish one message', publishBodySchema(limits), PublishAnswer) },
      '/v1/publish/batch': { post: post('Publish several messages in order', batchBodySchema(limits), BatchAnswer) },
      '/v1/disconnect': { post: post("Close a user's connections", DisconnectBody, DisconnectAnswer) },
      '/v1/presence': { get: get('Count the connections of a user or the subscribers of a topic', PresenceQuery, PresenceAnswer) },
      '/v1/history': { get: get("Read a channel's retained messages", HistoryQuery, HistoryAnswer) },
      ...inboxPaths(),
      '/v1/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1 document', content: json({ type: 'object' }) } } } },
    },
  };
}
