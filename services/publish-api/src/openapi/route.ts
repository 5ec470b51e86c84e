/** GET /v1/openapi.json: the OpenAPI document, built once at start and served without an API key (it holds no secret, only limits). */
import { createRequire } from 'node:module';
import { jsonResult } from '../http/result.js';
import type { Route } from '../http/route.js';
import type { BatchLimits } from '../publish/schemas.js';
import { openApiDocument } from './document.js';

/**
 * The product version for the document's `info.version`. In the repository src/openapi and
 * dist/openapi sit two levels under this package's root; bundled into the packed `herald`
 * command (dist/herald.js) the command's own package.json, one level up, carries it.
 */
function productVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ['../../package.json', '../package.json']) {
    try {
      const { version } = require(path) as { version?: unknown };
      if (typeof version === 'string') return version;
    } catch {
      // not this layout: try the next
    }
  }
  return '0.0.0';
}
const version = productVersion();

export function openApiRoute(limits: BatchLimits): Route {
  const answer = jsonResult(openApiDocument(limits, version));
  return { path: '/v1/openapi.json', method: 'GET', name: 'openapi', open: true, handle: () => Promise.resolve(answer) };
}
