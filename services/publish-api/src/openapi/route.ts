/** GET /v1/openapi.json: the OpenAPI document, built once at start and served without an API key (it holds no secret, only limits). */
import { createRequire } from 'node:module';
import { jsonResult } from '../http/result.js';
import type { Route } from '../http/route.js';
import type { BatchLimits } from '../publish/schemas.js';
import { openApiDocument } from './document.js';

// src/openapi and dist/openapi both sit two levels under the package root.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export function openApiRoute(limits: BatchLimits): Route {
  const answer = jsonResult(openApiDocument(limits, version));
  return { path: '/v1/openapi.json', method: 'GET', name: 'openapi', open: true, handle: () => Promise.resolve(answer) };
}
