/** One node-wide sweep per second: `hb` after silence, `refresh` then 4001 on token expiry, 4008 for slow consumers (after conflation had its say, hub/conflation.ts). */
import { CloseCode, encodeServerFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { ConnState } from './conn/state.js';
import type { Sender } from './conn/send.js';

/**
 * Sweep period. One timer per node, not per connection: at 100k connections a sweep is
 * ~100k cheap native calls (getBufferedAmount), a few ms once a second.
 */
export const SWEEP_INTERVAL_MS = 1000;

const HB_TEXT = encodeServerFrame({ op: 'hb' });

export interface KeepaliveDeps {
  readonly open: ReadonlySet<ConnState>;
  readonly sender: Sender;
  /** HEARTBEAT_MS. */
  readonly heartbeatMs: number;
  /** REFRESH_BEFORE_S. */
  readonly refreshBeforeS: number;
  /** Extra per-tick work (admission's per-IP bucket sweep). */
  readonly onTick?: (now: number) => void;
  /** The `keepalive` component logger. */
  readonly log: Logger;
}

/**
 * `hb` goes to a socket with no *direct* send for `heartbeat` ms. Fan-out goes through
 * app.publish and cannot stamp each socket, so a socket that only receives published
 * messages also gets an `hb` every heartbeat: a few extra bytes, no per-message work.
 */
export class Keepalive {
  readonly #deps: KeepaliveDeps;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: KeepaliveDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(Date.now()), SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sweep (public for tests). Closing a socket while iterating is safe: Set iteration skips removed entries. */
  tick(now: number): void {
    const { sender, heartbeatMs, refreshBeforeS } = this.#deps;
    const nowS = now / 1000;
    let expired = 0;
    for (const st of this.#deps.open) {
      if (st.closed || st.pendingOpen !== undefined) continue;
      if (!sender.checkBackpressure(st)) continue;
      const exp = st.exp;
      if (exp !== undefined) {
        if (nowS >= exp) {
          expired++;
          sender.close(st, CloseCode.TokenExpired, 'token expired');
          continue;
        }
        if (!st.refreshSent && exp - nowS <= refreshBeforeS) {
          st.refreshSent = true;
          if (!sender.send(st, { op: 'refresh', exp })) continue;
        }
      }
      if (now - st.lastSendAt >= heartbeatMs) sender.sendText(st, HB_TEXT);
    }
    if (expired > 0) this.#deps.log.info({ count: expired, code: CloseCode.TokenExpired }, 'closed connections with expired tokens');
    this.#deps.onTick?.(now);
  }
}
