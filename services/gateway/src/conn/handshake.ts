/** The one handshake of a connection request, WebSocket upgrade or SSE stream: gate → token → verify → reserve, or a refusal. */
import type { TokenVerifier, VerifiedToken } from '@herald/auth';
import type { Logger } from '@herald/telemetry';
import { writeError, type HeaderList, type HttpResponse, type ResponseGuard } from '@herald/uws';
import type { GatewayMetrics, UpgradeResult } from '../metrics.js';
import type { Admission, RequestOrigin } from './admission.js';
import { DRAINING_REFUSAL, TOKEN_MISSING_REFUSAL, TOO_MANY_CONNECTIONS_REFUSAL, authRefusal, type Refusal } from './refusal.js';
import type { Connections } from './registry.js';
import { pickToken, type TokenSources } from './token.js';

export interface HandshakeDeps {
  readonly admission: Admission;
  readonly connections: Connections;
  readonly verifier: TokenVerifier;
  /** The transport's outcome counter (`upgrades`, `sseRequests`). */
  readonly outcomes: GatewayMetrics['upgrades'];
  /** The transport's component logger. Tokens never reach it. */
  readonly log: Logger;
  /** `upgrade` or `sse`: the subject of the refusal log lines. */
  readonly name: string;
}

/** What a transport may check of the request itself, and of the verified token before the slot is reserved. */
export type RequestCheck = () => Refusal | undefined;
export type TokenCheck = (token: VerifiedToken) => Refusal | undefined;

/** The verdict on a token: a reserved slot for its `sub`, a refusal, or nothing to answer (the client went away). */
export type Admitted =
  | { readonly ok: true; readonly token: VerifiedToken }
  | { readonly ok: false; readonly refusal: Refusal }
  | { readonly ok: false; readonly refusal: undefined };

/** A response not yet aborted: for refusals written inside the uWS handler (uWS corks it). */
export const NOT_ABORTED: ResponseGuard = { aborted: false };

const ABORTED: Admitted = { ok: false, refusal: undefined };

/**
 * Steps, in this order for both transports: the synchronous gate (admission: draining, Origin,
 * capacity, rates; then the transport's own request check) → the token's presence → its
 * verification → after an await, the abort and draining again → the transport's token check →
 * the per-user slot. A refusal is written as the contract's error object with `Retry-After`
 * where it has one, counted, and logged (warn for 5xx).
 */
export class Handshake {
  readonly #deps: HandshakeDeps;

  constructor(deps: HandshakeDeps) {
    this.#deps = deps;
  }

  /** Synchronous, inside the uWS handler: the token to verify, or the refusal. */
  open(head: RequestOrigin & TokenSources, check?: RequestCheck): { readonly jwt: string } | { readonly refusal: Refusal } {
    const refusal = this.#deps.admission.check(head) ?? check?.();
    if (refusal !== undefined) return { refusal };
    const jwt = pickToken(head);
    return jwt === undefined ? { refusal: TOKEN_MISSING_REFUSAL } : { jwt };
  }

  /**
   * Verification and reservation without an await, when the verifier can (an HMAC secret):
   * the whole handshake then runs inside the uWS handler. Undefined when it cannot.
   */
  admitNow(jwt: string, check?: TokenCheck): Admitted | undefined {
    const verifySync = this.#deps.verifier.verifySync;
    if (verifySync === undefined) return undefined;
    let token: VerifiedToken;
    try {
      token = verifySync(jwt);
    } catch (err) {
      return { ok: false, refusal: authRefusal(err) };
    }
    return this.#reserve(token, check);
  }

  /** Verification with an await; the request counts against capacity meanwhile. Never rejects. */
  async admit(jwt: string, guard: ResponseGuard, check?: TokenCheck): Promise<Admitted> {
    const d = this.#deps;
    d.connections.beginVerify();
    let token: VerifiedToken;
    try {
      token = await d.verifier.verify(jwt);
    } catch (err) {
      return guard.aborted ? ABORTED : { ok: false, refusal: authRefusal(err) };
    } finally {
      d.connections.endVerify();
    }
    if (guard.aborted) return ABORTED;
    if (d.admission.draining) return { ok: false, refusal: DRAINING_REFUSAL };
    return this.#reserve(token, check);
  }

  /** Writes, counts and logs a refusal; `headers` go before `Retry-After` (CORS for SSE). */
  refuse(res: HttpResponse, guard: ResponseGuard, r: Refusal, ip: string, headers: HeaderList = []): void {
    const d = this.#deps;
    d.outcomes.inc({ result: `${r.status}` satisfies UpgradeResult, reason: r.code });
    const fields = { status: r.status, code: r.code, ip };
    if (r.status >= 500) d.log.warn(fields, `${d.name} refused`);
    else d.log.info(fields, `${d.name} refused`);
    const all: HeaderList = r.retryAfterS === undefined ? headers : [...headers, ['retry-after', String(r.retryAfterS)]];
    writeError(res, guard, r.status, r.code, r.message, all);
  }

  /** Counts a request whose client went away before its answer. */
  aborted(): void {
    this.#deps.outcomes.inc({ result: 'aborted' });
  }

  /** Counts an accepted request. */
  accepted(): void {
    this.#deps.outcomes.inc({ result: 'ok' });
  }

  #reserve(token: VerifiedToken, check: TokenCheck | undefined): Admitted {
    const refusal = check?.(token);
    if (refusal !== undefined) return { ok: false, refusal };
    if (!this.#deps.connections.reserve(token.sub)) return { ok: false, refusal: TOO_MANY_CONNECTIONS_REFUSAL };
    return { ok: true, token };
  }
}
