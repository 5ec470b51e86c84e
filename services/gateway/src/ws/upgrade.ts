/** HTTP → WebSocket: copy the request, run the handshake (conn/handshake.ts), upgrade (synchronously with an HMAC secret). */
import type { VerifiedToken } from '@herald/auth';
import type { Logger } from '@herald/telemetry';
import { guardResponse, type Behavior, type HttpResponse, type us_socket_context_t } from '@herald/uws';
import { NOT_ABORTED, type Admitted, type Handshake } from '../conn/handshake.js';
import type { Connections } from '../conn/registry.js';
import { newConnState, type ConnIds, type ConnSlot, type PendingOpen } from '../conn/state.js';
import { parseInboxAfter, parseResume, readUpgradeHead, selectProtocol, type UpgradeHead } from './upgrade-head.js';

export interface UpgradeDeps {
  /** The handshake counting into `upgrades` with the `upgrade` logger. */
  readonly handshake: Handshake;
  readonly connections: Pick<Connections, 'unreserve'>;
  readonly ids: ConnIds;
  readonly cmdBurst: number;
  /** The `upgrade` component logger. Tokens never reach it. */
  readonly log: Logger;
}

/** What the go-live step needs from the URL (ws/lifecycle.ts reads `since` after open). */
function pendingOpenOf(head: UpgradeHead): PendingOpen {
  const resume = parseResume(head.query);
  return {
    resumeAsked: resume !== undefined,
    resume: resume?.valid === true ? { since: resume.since, epoch: resume.epoch } : undefined,
    inbox: parseInboxAfter(head.query),
  };
}

/**
 * The uWS `upgrade` handler (see the uWebSockets.js examples: copy `req` at once, cork async answers). With an HMAC secret (`verifier.verifySync`) the
 * whole upgrade is synchronous: admission, token, per-user slot and `res.upgrade` inside
 * the handler, which uWS corks itself, so uWebSockets.js#1108 cannot happen. Otherwise
 * (public key, JWKS) a synchronous head, an asynchronous verify, and a corked
 * `res.upgrade`: that path stays exposed to uWebSockets.js#1108 (see the README). Bus
 * interest and `since` recovery of the personal channel happen after open, in the go-live
 * step (ws/lifecycle.ts).
 */
export function createUpgradeHandler(deps: UpgradeDeps): NonNullable<Behavior<ConnSlot>['upgrade']> {
  const hs = deps.handshake;
  return (res, req, context) => {
    const head = readUpgradeHead(req, res);
    const opened = hs.open(head);
    if ('refusal' in opened) return hs.refuse(res, NOT_ABORTED, opened.refusal, head.ip); // still inside the handler: corked
    const now = hs.admitNow(opened.jwt);
    if (now !== undefined) return answer(res, head, context, deps, now, false);
    const guard = guardResponse(res);
    void hs.admit(opened.jwt, guard).then((verdict) => answer(res, head, context, deps, verdict, true, guard));
  };
}

/** Upgrades a reserved slot, writes the refusal, or counts the abort; `corked` after an await (uWS only corks the handler itself). */
function answer(
  res: HttpResponse, head: UpgradeHead, context: us_socket_context_t, deps: UpgradeDeps, verdict: Admitted, corked: boolean, guard = NOT_ABORTED,
): void {
  if (verdict.ok) return upgrade(res, head, verdict.token, context, deps, corked);
  if (verdict.refusal !== undefined) deps.handshake.refuse(res, guard, verdict.refusal, head.ip);
  else deps.handshake.aborted();
}

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
  deps.handshake.accepted();
}
