/** HTTP → WebSocket: copy the request, admit synchronously, verify the JWT, prepare the personal channel, corked upgrade. */
import { AUTH_ERROR_HTTP_STATUS, AuthError, type TokenVerifier, type VerifiedToken } from '@herald/auth';
import type { Logger } from '@herald/telemetry';
import { guardResponse, writeError, type Behavior, type HttpResponse, type ResponseGuard, type us_socket_context_t } from '@herald/uws';
import type { Interest } from '../hub/interest.js';
import type { Recovery, RecoveryPlan } from '../hub/recovery.js';
import type { GatewayMetrics, UpgradeResult } from '../metrics.js';
import { DRAINING_REFUSAL, type Admission, type Refusal } from './admission.js';
import { newConnState, type ConnIds, type ConnSlot } from './conn-state.js';
import type { Connections } from './connections.js';
import { parseResume, pickToken, readUpgradeHead, selectProtocol, type UpgradeHead } from './upgrade-head.js';

export interface UpgradeDeps {
  readonly admission: Admission;
  readonly connections: Connections;
  readonly verifier: TokenVerifier;
  readonly interest: Pick<Interest, 'acquire' | 'release'>;
  readonly recovery: Pick<Recovery, 'begin' | 'read' | 'end'>;
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

/**
 * The uWS `upgrade` handler (STYLE §7): a synchronous head (copy, abort handler, admission),
 * an asynchronous body (verify, per-user slot, personal channel), a corked tail.
 */
export function createUpgradeHandler(deps: UpgradeDeps): NonNullable<Behavior<ConnSlot>['upgrade']> {
  return (res, req, context) => {
    const head = readUpgradeHead(req, res);
    const refusal = deps.admission.check(head);
    if (refusal) return refuse(res, NOT_ABORTED, refusal, deps, head); // still inside the handler: corked
    const token = pickToken(head);
    if (token === undefined) return refuse(res, NOT_ABORTED, { status: 401, code: 'token_missing', message: 'token missing' }, deps, head);
    const guard = guardResponse(res);
    deps.connections.beginVerify();
    void accept(res, guard, head, token, context, deps);
  };
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
  if (!deps.connections.reserve(token.sub)) {
    return refuse(res, guard, { status: 429, code: 'too_many_connections', message: 'too many connections for this user' }, deps, head);
  }
  const st = newConnState(deps.ids.next(), token, deps.cmdBurst, Date.now());
  const resume = parseResume(head.query);
  // The capture starts before the bus subscription, so no live message falls between the two.
  const buffer = resume?.valid === true ? deps.recovery.begin(st, st.userChannel, resume.since) : undefined;
  const undo = (interestHeld: boolean): void => {
    if (buffer !== undefined) deps.recovery.end(buffer);
    if (interestHeld) deps.interest.release(st.userChannel);
    deps.connections.unreserve(st.sub);
  };
  try {
    await deps.interest.acquire(st.userChannel);
  } catch {
    undo(false);
    return refuse(res, guard, { status: 503, code: 'bus_unavailable', message: 'bus unavailable', retryAfterS: 1 }, deps, head);
  }
  let plan: RecoveryPlan | undefined;
  if (buffer !== undefined && resume?.valid === true) plan = await deps.recovery.read(st.userChannel, resume.since, resume.epoch);
  if (guard.aborted || deps.admission.draining) {
    undo(true);
    if (guard.aborted) return void deps.metrics.upgrades.inc({ result: 'aborted' });
    return refuse(res, guard, DRAINING_REFUSAL, deps, head);
  }
  st.pendingOpen = {
    resumeAsked: resume !== undefined,
    recovery: buffer !== undefined && plan !== undefined ? { buffer, plan } : undefined,
  };
  try {
    res.cork(() => res.upgrade<ConnSlot>({ st }, head.key, selectProtocol(head), head.extensions, context));
  } catch (err) {
    // Only reachable if uWS refuses the upgrade itself; the socket never opened.
    undo(true);
    deps.log.error({ err }, 'upgrade failed');
    return;
  }
  deps.metrics.upgrades.inc({ result: 'ok' });
}
