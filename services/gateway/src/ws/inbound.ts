/** Inbound frames: command rate, decoding, bad-frame policy, and the per-connection command queue. */
import { CloseCode, decodeClientFrame, type DecodeLimits, type ErrFrame, type ServerFrame } from '@herald/protocol';
import type { Logger } from '@herald/telemetry';
import type { GatewayMetrics } from '../metrics.js';
import { handleCommand, type CommandDeps } from './commands.js';
import type { ConnState } from '../conn/state.js';
import { refillAndTake } from '../conn/rate.js';
import type { Sender } from '../conn/send.js';

export interface InboundDeps {
  readonly commands: CommandDeps;
  readonly sender: Sender;
  readonly metrics: Pick<GatewayMetrics, 'framesIn'>;
  /** The `ws` component logger. */
  readonly log: Logger;
  readonly limits: DecodeLimits;
  /** CMD_RATE and CMD_BURST. */
  readonly cmdRate: number;
  readonly cmdBurst: number;
  /** BAD_FRAME_LIMIT. */
  readonly badFrameLimit: number;
}

/**
 * Handles one inbound WebSocket message. `data` is only valid during the uWS callback:
 * decodeClientFrame copies what it keeps before anything is awaited.
 */
export class Inbound {
  readonly #deps: InboundDeps;

  constructor(deps: InboundDeps) {
    this.#deps = deps;
  }

  onMessage(st: ConnState, data: ArrayBuffer, isBinary: boolean): void {
    const d = this.#deps;
    if (st.closed) return;
    // Every frame, good or bad, costs a token: a flood of garbage is a flood too.
    const now = Date.now();
    const left = refillAndTake(st.cmdTokens, st.cmdAt, now, d.cmdRate, d.cmdBurst);
    if (left < 0) {
      d.metrics.framesIn.inc({ op: 'rate_limited' });
      d.log.info({ conn: st.connId, user: st.sub, code: CloseCode.RateLimited }, 'closing: command rate exceeded');
      d.sender.close(st, CloseCode.RateLimited, 'rate limited');
      return;
    }
    st.cmdTokens = left;
    st.cmdAt = now;
    const r = decodeClientFrame(data, isBinary, d.limits);
    if (!r.ok) {
      d.metrics.framesIn.inc({ op: 'bad' });
      if (r.fatal) {
        d.log.info({ conn: st.connId, user: st.sub, code: r.closeCode, reason: r.message }, 'closing: bad frame');
        d.sender.close(st, r.closeCode, r.message);
        return;
      }
      if (++st.badFrames >= d.badFrameLimit) {
        d.log.info({ conn: st.connId, user: st.sub, code: CloseCode.RateLimited, badFrames: st.badFrames }, 'closing: too many bad frames');
        d.sender.close(st, CloseCode.RateLimited, 'too many bad frames');
        return;
      }
      const reply: { -readonly [K in keyof ErrFrame]: ErrFrame[K] } = { op: 'err', code: r.code, message: r.message };
      if (r.id !== undefined) reply.id = r.id;
      this.#reply(st, reply);
      return;
    }
    const frame = r.frame;
    d.metrics.framesIn.inc({ op: frame.op });
    if (frame.op === 'ping') {
      this.#reply(st, { op: 'pong', id: frame.id });
      return;
    }
    // sub/unsub/auth run one at a time per connection: no races between a sub and the
    // unsub that follows it, and acks come back in command order. Until `welcome` was sent,
    // the go-live step heads the queue (ws/lifecycle.ts): no command runs before it.
    this.#enqueue(st, () => handleCommand(frame, st, d.commands), frame.id);
  }

  /** An immediate answer (`pong`, `err`); queued behind the go-live step while `welcome` is not sent yet. */
  #reply(st: ConnState, frame: ServerFrame): void {
    if (st.pendingOpen === undefined) {
      this.#deps.sender.send(st, frame);
      return;
    }
    this.#enqueue(st, () => frame, 0); // cannot fail: the id is never used
  }

  #enqueue(st: ConnState, task: () => ServerFrame | Promise<ServerFrame>, id: string | number): void {
    const run = (): Promise<void> => this.#run(st, task, id);
    const tail = st.queue === undefined ? run() : st.queue.then(run);
    st.queue = tail;
    void tail.then(() => {
      if (st.queue === tail) st.queue = undefined;
    });
  }

  async #run(st: ConnState, task: () => ServerFrame | Promise<ServerFrame>, id: string | number): Promise<void> {
    if (st.closed) return;
    let reply: ServerFrame;
    try {
      reply = await task();
    } catch (err) {
      this.#deps.log.error({ conn: st.connId, user: st.sub, err }, 'command failed');
      reply = { op: 'err', id, code: 'internal', message: 'internal error' };
    }
    this.#deps.sender.send(st, reply);
  }
}
