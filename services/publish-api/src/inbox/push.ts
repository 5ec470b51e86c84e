/**
 * Web Push registration on the publish API: `POST /v1/push-subscriptions` with the user's
 * token (verified with the gateway's JWT rules, libs/auth) and `GET /v1/push/vapid-public-key`.
 */
import { AuthError, AUTH_ERROR_HTTP_STATUS, createTokenVerifier, type TokenVerifier, type VerifierConfig } from '@herald/auth';
import { InboxError } from '@herald/inbox';
import { checkSubscription, type SubscriptionRules } from '@herald/push';
import { errorResult, jsonResult } from '../http/result.js';
import type { Route } from '../http/route.js';
import { inboxFailure } from './failure.js';
import type { InboxService } from './service.js';

export interface PushRouteOptions {
  /** VAPID public key; unset: Web Push is off and both routes answer 404. */
  readonly vapidPublicKey: string | undefined;
  /** Verifies user tokens; unset (no JWT key configured): the registration answers 404. */
  readonly verifier: TokenVerifier | undefined;
  /** Endpoint rules (tests allow the stand-in push service's origin). */
  readonly rules?: SubscriptionRules;
}

/** The JWT settings of a config, read as the gateway reads them (services/gateway/src/config.ts verifierConfigOf). */
export interface JwtKeys {
  readonly JWT_SECRET?: string | undefined;
  readonly JWT_PUBLIC_KEY?: string | undefined;
  readonly JWKS_URL?: string | undefined;
  readonly JWT_ALGORITHMS?: readonly string[] | undefined;
  readonly JWT_AUDIENCE?: string | undefined;
  readonly JWT_ISSUER?: string | undefined;
  readonly JWT_ALLOW_NO_EXP: boolean;
  readonly JWT_CLOCK_TOLERANCE_S: number;
}

/** A verifier from the JWT settings; `undefined` when no key is configured. */
export function verifierOf(c: JwtKeys): TokenVerifier | undefined {
  if (c.JWT_SECRET === undefined && c.JWT_PUBLIC_KEY === undefined && c.JWKS_URL === undefined) return undefined;
  const v: VerifierConfig = { requireExp: !c.JWT_ALLOW_NO_EXP, clockToleranceSec: c.JWT_CLOCK_TOLERANCE_S };
  if (c.JWT_SECRET !== undefined) v.hmacSecret = c.JWT_SECRET;
  if (c.JWT_PUBLIC_KEY !== undefined) v.publicKey = c.JWT_PUBLIC_KEY;
  if (c.JWKS_URL !== undefined) v.jwksUrl = c.JWKS_URL;
  if (c.JWT_ALGORITHMS !== undefined) v.algorithms = c.JWT_ALGORITHMS;
  if (c.JWT_AUDIENCE !== undefined) v.audience = c.JWT_AUDIENCE;
  if (c.JWT_ISSUER !== undefined) v.issuer = c.JWT_ISSUER;
  return createTokenVerifier(v);
}

const PUSH_OFF = errorResult('not_found', 'Web Push is not configured on this server');

export function pushRoutes(service: InboxService, o: PushRouteOptions): Route[] {
  return [
    {
      path: '/v1/push/vapid-public-key',
      method: 'GET',
      name: 'push_key',
      open: true,
      cors: true,
      handle: () => Promise.resolve(o.vapidPublicKey === undefined ? PUSH_OFF : jsonResult({ publicKey: o.vapidPublicKey })),
    },
    {
      path: '/v1/push-subscriptions',
      method: 'POST',
      name: 'push_subscribe',
      // Authenticated by the user's token below, not by an API key; called from the user's page.
      open: true,
      cors: true,
      handle: async ({ body, authorization }, ctx) => {
        if (o.vapidPublicKey === undefined || o.verifier === undefined) return PUSH_OFF;
        const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
        if (!m) return errorResult('token_missing', 'Authorization: Bearer <user token> is required', { headers: [['www-authenticate', 'Bearer']] });
        let user: string;
        try {
          user = (await o.verifier.verify(m[1] as string)).sub;
        } catch (err) {
          if (err instanceof AuthError) {
            return AUTH_ERROR_HTTP_STATUS[err.code] === 503
              ? errorResult('key_unavailable', 'the token keys cannot be read now; try again', { headers: [['retry-after', '1']] })
              : errorResult(err.code as Exclude<typeof err.code, 'key_unavailable'>, 'the token was refused');
          }
          throw err;
        }
        const sub = checkSubscription(body, o.rules ?? {});
        if (!sub.ok) return errorResult('invalid_body', sub.message);
        try {
          await (await service.subscriptions()).add(user, sub.subscription);
          return jsonResult({ id: sub.subscription.id }, 201);
        } catch (err) {
          return inboxFailure(err instanceof InboxError ? err : new InboxError('unavailable', 'push subscription store failed', { cause: err }), ctx);
        }
      },
    },
  ];
}
