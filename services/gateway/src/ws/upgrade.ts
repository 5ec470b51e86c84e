/** HTTP → WebSocket: copy the request, admit, verify the JWT, reserve the per-user slot, upgrade (synchronously with an HMAC secret). */
import { AUTH_ERROR_HTTP_STATUS, AuthError, type TokenVerifier, type VerifiedToken } from '@herald/auth';
import type { Logger } from '@herald/telemetry';
import { guardResponse, writeError, type Behavior, type HttpResponse, type ResponseGuard, type us_socket_context_t } from '@herald/uws';
import type { GatewayMetrics, UpgradeResult } from '../metrics.js';
import { DRAINING_REFUSAL, type Admission, type Refusal } from './admission.js';
import { newConnState, type ConnIds, type ConnSlot, type PendingOpen } from './conn-state.js';
import type { Connections } from './connections.js';
import { parseResume, pickToken, readUpgradeHead, selectProtocol, type UpgradeHead } from './upgrade-head.js';

export interface UpgradeDeps {
  readonly admission: Admission;
  readonly connections: Connections;
  readonly verifier: TokenVerifier;
  readonly ids: ConnIds;
  readonly cmdBurst: number;
  readonly metrics: Pick<GatewayMetrics, 'upgrades'>;
  /** The `upgrade` component logger. Tokens never reach it. */
  readonly log: Logger;
}

const NOT_ABORTED: ResponseGuard = { aborted: false };

function refuse(res: HttpResponse, guard: ResponseGuard, r: Refusal, deps: UpgradeDeps, head: UpgradeHead): void {
  deps.metrics.upgrades.inc({ result: `${r.status}` satisfies UpgradeResult });
  const fields = { status: r.status, code: r.code, ip: head.ip };
  if (r.status >= 500) deps.log.warn(fields, 'upgrade refused');
  else deps.log.info(fields, 'upgrade refused');
  const headers: [string, string][] = r.retryAfterS === undefined ? [] : [['retry-after', String(r.retryAfterS)]];
  writeError(res, guard, r.status, r.code, r.message, headers);
}

/** The refusal for a token that did not verify (401 with the auth code; 503 when keys are unavailable). */
export function authRefusal(err: unknown): Refusal {
  if (err instanceof AuthError) return { status: AUTH_ERROR_HTTP_STATUS[err.code], code: err.code, message: err.message, ...(err.code === 'key_unavailable' ? { retryAfterS: 5 } : {}) };
  return { status: 500, code: 'internal', message: 'token verification failed' };
}

/** What the go-live step needs from the URL (ws/lifecycle.ts reads `since` after open). */
function pendingOpenOf(head: UpgradeHead): PendingOpen {
  const resume = parseResume(head.query);
  return {
    resumeAsked: resume !== undefined,
    resume: resume?.valid === true ? { since: resume.since, epoch: resume.epoch } : undefined,
  };
}

const TOO_MANY: Refusal = { status: 429, code: 'too_many_connections', message: 'too many connections for this user' };

/**
 * The uWS `upgrade` handler (STYLE §7). With an HMAC secret (`verifier.verifySync`) the
 * whole upgrade is synchronous: admission, token, per-user slot and `res.upgrade` inside
 * the handler, which uWS corks itself. Otherwise (public key, JWKS) a synchronous head,
 * an asynchronous verify, and a corked `res.upgrade`: that path stays exposed to
 * uWebSockets.js#1108 (see the README). Bus interest and `since` recovery of the
 * personal channel happen after open, in the go-live step (ws/lifecycle.ts).
 */
export function createUpgradeHandler(deps: UpgradeDeps): NonNullable<Behavior<ConnSlot>['upgrade']> {
  const verifySync = deps.verifier.verifySync;
  return (res, req, context) => {
    const head = readUpgradeHead(req, res);
    const refusal = deps.admission.check(head);
    if (refusal) return refuse(res, NOT_ABORTED, refusal, deps, head); // still inside the handler: corked
    const token = pickToken(head);
    if (token === undefined) return refuse(res, NOT_ABORTED, { status: 401, code: 'token_missing', message: 'token missing' }, deps, head);
    if (verifySync !== undefined) return acceptSync(res, head, token, context, deps, verifySync);
    const guard = guardResponse(res);
    deps.connections.beginVerify();
    void accept(res, guard, head, token, context, deps);
  };
}

/** Everything inside the uWS handler: no await, no cork (uWS corks the handler), so uWebSockets.js#1108 cannot happen. */
function acceptSync(
  res: HttpResponse, head: UpgradeHead, jwt: string, context: us_socket_context_t, deps: UpgradeDeps, verifySync: (token: string) => VerifiedToken,
): void {
  let token: VerifiedToken;
  try {
    token = verifySync(jwt);
  } catch (err) {
    return refuse(res, NOT_ABORTED, authRefusal(err), deps, head);
  }
  if (!deps.connections.reserve(token.sub)) return refuse(res, NOT_ABORTED, TOO_MANY, deps, head);
  upgrade(res, head, token, context, deps, false);
}

async function accept(res: HttpResponse, guard: ResponseGuard, head: UpgradeHead, jwt: string, context: us_socket_context_t, deps: UpgradeDeps): Promise<void> {
  let token: VerifiedToken;
  try {
    token = await deps.verifier.verify(jwt);
  } catch (err) {
    deps.connections.endVerify();
    if (!guard.aborted) refuse(res, guard, authRefusal(err), deps, head);
    return;
  }
  deps.connections.endVerify();
  if (guard.aborted) return void deps.metrics.upgrades.inc({ result: 'aborted' });
  if (deps.admission.draining) return refuse(res, guard, DRAINING_REFUSAL, deps, head);
  if (!deps.connections.reserve(token.sub)) return refuse(res, guard, TOO_MANY, deps, head);
  upgrade(res, head, token, context, deps, true);
}

/** The upgrade itself, for a reserved slot; `corked` after an await (uWS only corks the handler itself). */
function upgrade(res: HttpResponse, head: UpgradeHead, token: VerifiedToken, context: us_socket_context_t, deps: UpgradeDeps, corked: boolean): void {
  const st = newConnState(deps.ids.next(), token, deps.cmdBurst, Date.now());
  st.pendingOpen = pendingOpenOf(head);
  const slot: ConnSlot = { st };
  const protocol = selectProtocol(head);
  try {
    if (corked) res.cork(() => res.upgrade<ConnSlot>(slot, head.key, protocol, head.extensions, context));
    else res.upgrade<ConnSlot>(slot, head.key, protocol, head.extensions, context);
  } catch (err) {
    // Only reachable if uWS refuses the upgrade itself; the socket never opened.
    if (!st.closed && st.ws === undefined) deps.connections.unreserve(st.sub);
    deps.log.error({ err }, 'upgrade failed');
    return;
  }
  deps.metrics.upgrades.inc({ result: 'ok' });
}
