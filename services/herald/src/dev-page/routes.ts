/**
 * The live page of `herald dev` and its development-only endpoints: `/` (the page),
 * `/sdk/herald-client.js` (the @herald/client browser bundle), `GET /dev/token` (a short-lived
 * token minted from the development secret) and `POST /dev/publish` (forwarded to the
 * publish API with the development API key, so the page never holds a key).
 * Registered by `herald dev` only, never by `herald gateway` or `herald publish-api`; the
 * `/dev/*` endpoints refuse clients that are not on loopback unless HERALD_DEV_PUBLIC=true.
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { signToken } from '@herald/auth';
import { isValidUserId } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import { BodyTooLargeError, guardResponse, readBody, remoteAddress, writeError, writeJson, type App, type HttpResponse } from '@herald/uws';
import { DEV_PAGE_HTML } from './page.js';

/** A token from `/dev/token` lives this long by default, and at most `MAX_DEV_TOKEN_TTL_S`. */
export const DEFAULT_DEV_TOKEN_TTL_S = 600;
export const MAX_DEV_TOKEN_TTL_S = 3600;
/** Largest body `/dev/publish` forwards (the publish API applies its own limits after). */
const MAX_DEV_BODY_BYTES = 1024 * 1024;

export interface DevRoutesDeps {
  /** The development HMAC secret; without one (a public-key setup) `/dev/token` answers 501. */
  readonly secret: string | undefined;
  readonly audience?: string | undefined;
  readonly issuer?: string | undefined;
  /** The publish API this process serves, e.g. `http://127.0.0.1:8080`. */
  readonly publishUrl: () => string;
  /** An API key of this process's publish API. */
  readonly apiKey: string | undefined;
  /** HERALD_DEV_PUBLIC=true: `/dev/*` answers any client, not only loopback ones. */
  readonly allowPublic: boolean;
  readonly logger: Logger;
}

/**
 * Where `npm install` put the SDK's browser bundle (resolved through the package's exports);
 * the packed `herald` (one bundled file, no @herald/client dependency) carries a copy beside it.
 */
export function sdkBundlePath(): string {
  try {
    return createRequire(import.meta.url).resolve('@herald/client/herald-client.min.js');
  } catch {
    return fileURLToPath(new URL('./herald-client.min.js', import.meta.url));
  }
}

/** True for 127.0.0.0/8 and ::1 in the forms uWS reports them (plain, IPv4-mapped, uncompressed). */
export function isLoopback(address: string): boolean {
  const a = address.toLowerCase();
  if (/^(::ffff:)?127\./.test(a)) return true;
  if (a === '::1') return true;
  const groups = a.split(':');
  if (groups.length === 8 && groups.slice(0, 7).every((g) => /^0+$/.test(g)) && /^0*1$/.test(groups[7] ?? '')) return true;
  // ::ffff:7f00:1 style (IPv4-mapped 127.x in hex), uncompressed or not
  return groups.length >= 3 && groups.at(-3) === 'ffff' && /^0*7f[0-9a-f]{2}$/.test(groups.at(-2) ?? '');
}

function readSdk(logger: Logger): string | undefined {
  try {
    return readFileSync(sdkBundlePath(), 'utf8');
  } catch (err) {
    logger.warn({ err }, 'the SDK bundle is missing: run `npm run build`; /sdk/herald-client.js answers 503');
    return undefined;
  }
}

function writeText(res: HttpResponse, status: string, type: string, body: string): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', type).writeHeader('cache-control', 'no-store');
    res.writeHeader('x-content-type-options', 'nosniff').end(body);
  });
}

/** Registers the page, the SDK bundle and the `/dev/*` endpoints on `app`. */
export function mountDevRoutes(app: App, deps: DevRoutesDeps): void {
  const log = deps.logger.child({ component: 'dev-page' });
  const sdk = readSdk(log);
  const local = (res: HttpResponse): boolean => deps.allowPublic || isLoopback(remoteAddress(res));

  app.get('/', (res) => writeText(res, '200 OK', 'text/html; charset=utf-8', DEV_PAGE_HTML));
  app.get('/favicon.ico', (res) => void res.cork(() => res.writeStatus('204 No Content').end()));
  app.get('/sdk/herald-client.js', (res) => {
    if (sdk === undefined) return writeText(res, '503 Service Unavailable', 'text/plain', 'SDK bundle not built: run `npm run build`\n');
    writeText(res, '200 OK', 'text/javascript; charset=utf-8', sdk);
  });

  app.get('/dev/token', (res, req) => {
    const query = new URLSearchParams(req.getQuery() ?? '');
    const guard = guardResponse(res);
    if (!local(res)) return writeError(res, guard, 403, 'forbidden', 'development endpoint: loopback clients only (HERALD_DEV_PUBLIC=true to open it)');
    if (deps.secret === undefined) return writeError(res, guard, 501, 'not_available', 'no development secret: tokens come from your own issuer');
    const sub = query.get('sub') ?? 'dev-user';
    const topics = (query.get('topics') ?? '>').split(',').map((t) => t.trim()).filter((t) => t.length > 0);
    const ttl = Number(query.get('ttl') ?? DEFAULT_DEV_TOKEN_TTL_S);
    if (!isValidUserId(sub)) return writeError(res, guard, 400, 'invalid_query', 'sub: 1 to 256 bytes of UTF-8, no control characters');
    if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_DEV_TOKEN_TTL_S) return writeError(res, guard, 400, 'invalid_query', `ttl: 1 to ${MAX_DEV_TOKEN_TTL_S} seconds`);
    signToken({ secret: deps.secret, sub, topics, ttlSec: ttl, ...(deps.audience ? { audience: deps.audience } : {}), ...(deps.issuer ? { issuer: deps.issuer } : {}) }).then(
      (token) => writeJson(res, guard, 200, { token, exp: Math.floor(Date.now() / 1000) + ttl }),
      (err: unknown) => writeError(res, guard, 400, 'invalid_query', err instanceof Error ? err.message : 'cannot mint'),
    );
  });

  app.post('/dev/publish', (res) => {
    const guard = guardResponse(res);
    if (!local(res)) return writeError(res, guard, 403, 'forbidden', 'development endpoint: loopback clients only (HERALD_DEV_PUBLIC=true to open it)');
    readBody(res, guard, MAX_DEV_BODY_BYTES)
      .then(async (body) => {
        if (deps.apiKey === undefined) return writeError(res, guard, 501, 'not_available', 'no API key configured');
        const upstream = await fetch(deps.publishUrl() + '/v1/publish', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${deps.apiKey}` },
          body: new Uint8Array(body),
        });
        const text = await upstream.text();
        if (guard.aborted) return;
        res.cork(() => res.writeStatus(`${upstream.status} ${upstream.statusText}`).writeHeader('content-type', 'application/json').end(text));
      })
      .catch((err: unknown) => {
        if (err instanceof BodyTooLargeError) return writeError(res, guard, 413, 'body_too_large', 'body too large');
        log.warn({ err }, 'dev publish failed');
        writeError(res, guard, 502, 'upstream_failed', 'the publish API did not answer');
      });
  });
}
