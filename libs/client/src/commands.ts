/**
 * What the client asks of the gateway on a live connection: `sub` / `unsub` (with `since`
 * for recovery) and `auth` over WebSocket; over SSE, where there are no commands, the same
 * intents reopen the stream with the new topics or token from the last event id.
 * @module
 */
import { MAX_TOPICS_PER_FRAME, TOPIC_PREFIX as TOPIC } from '@herald/protocol';
import type { Acks } from './acks.js';
import type { Delivery } from './delivery.js';
import { HeraldError, type HeraldErrorDetails } from './errors.js';
import type { Subscriptions } from './subscriptions.js';
import type { TokenSource } from './token.js';
import type { Transport } from './transport.js';
import type { SseKit } from './sse-kit.js';


/** @internal */
export interface CommandDeps {
  /** The transport once `welcome` arrived, else undefined. */
  readonly live: () => Transport | undefined;
  readonly report: (code: string, message: string, details?: HeraldErrorDetails) => void;
  readonly subs: Subscriptions;
  readonly delivery: Delivery;
  readonly tokens: TokenSource;
  readonly acks: Acks;
  /** Wait before asking again after an `err` reply, in ms. */
  readonly retryMs: number;
  /** The SSE transport's pieces; absent in the WebSocket-only entry (SSE is then never live). */
  readonly sse: SseKit | undefined;
  /** Adds `presence` to a `sub` frame (presence.ts); absent: no presence. */
  readonly out?: ((frame: { op: string; topics?: readonly string[]; presence?: string[] }) => void) | undefined;
}

/** @internal */
export class Commands {
  /** @internal The dependencies (read by the SSE kit too). */
  readonly d: CommandDeps;

  constructor(deps: CommandDeps) {
    this.d = deps;
  }

  /** Sends what the connection lacks: `unsub` for topics left, `sub` (with `since`) for topics wanted. */
  sync(): void {
    const t = this.d.live();
    if (t === undefined) return;
    if (t.kind === 'sse') return (this.d.sse as SseKit).reopen(this.d, t, true);
    const leave = this.d.subs.takeToUnsubscribe();
    for (let i = 0; i < leave.length; i += MAX_TOPICS_PER_FRAME) {
      t.send({ op: 'unsub', id: this.d.acks.expect(() => undefined), topics: leave.slice(i, i + MAX_TOPICS_PER_FRAME) });
    }
    const join = this.d.subs.takeToSubscribe();
    for (let i = 0; i < join.length; i += MAX_TOPICS_PER_FRAME) this.#sub(t, join.slice(i, i + MAX_TOPICS_PER_FRAME), []);
  }

  /** A gap on `ch`: `sub` with `since` (WebSocket; `topics: []` for the personal channel), or a resumed stream (SSE). */
  recover(ch: string): void {
    const t = this.d.live();
    if (t === undefined) return;
    if (t.kind === 'sse') (this.d.sse as SseKit).reopen(this.d, t);
    else if (ch.startsWith(TOPIC)) this.#sub(t, [ch.slice(TOPIC.length)], []);
    else this.#sub(t, [], [ch]);
  }

  /** `refresh`: a token from `getToken()`, then {@link auth}. */
  refresh(): void {
    const { tokens, report: error } = this.d;
    if (!tokens.source) return error('token_expiring', 'no getToken');
    tokens.fresh().then(
      (token) => this.auth(token).catch((e: HeraldError) => error(e.code, e.message)),
      (err: unknown) => error('token_unavailable', 'getToken() failed', { cause: err }),
    );
  }

  /**
   * A new token without a new connection: `auth` on a live WebSocket (kept only once accepted),
   * the stream resumed with it over SSE, or kept for the next connection. Then the topics refused
   * as `forbidden` are asked for again. Rejects on `token_invalid` / `token_mismatch`.
   */
  auth(token: string): Promise<void> {
    const { tokens, subs, acks, delivery } = this.d;
    const take = (): void => {
      tokens.set(token);
      subs.unrefuse();
    };
    return new Promise((resolve, reject) => {
      const t = this.d.live();
      if (t === undefined || t.kind === 'sse') {
        take();
        if (t) (this.d.sse as SseKit).reopen(this.d, t);
        return resolve();
      }
      const id = acks.expect(
        (reply) => {
          if (reply.op !== 'ack') return reject(new HeraldError(String(reply['code']), String(reply['message'])));
          take();
          delivery.subAck(reply['results'], undefined);
          this.sync();
          resolve();
        },
        () => (take(), resolve()), // the connection went first: the next one opens with this token
      );
      t.send({ op: 'auth', id, token });
    });
  }

  /** `sub` for `topics`, recovering them and `extra` channels from the positions held. */
  #sub(t: Transport, topics: readonly string[], extra: readonly string[]): void {
    const { acks, delivery, subs, report: error } = this.d;
    const pos = delivery.positions;
    const since = pos.sinceOf([...topics.map((x) => TOPIC + x), ...extra]);
    // A topic with `rewind` and nothing held: `since: 0` replays its retained history before the
    // ack; delivery keeps the newest n. Not passed to subAck: nothing was held, nothing is lost.
    let wire = since;
    for (const x of topics) {
      const n = subs.rewindOf(x);
      if (n > 0 && pos.era !== undefined && pos.get(TOPIC + x) === undefined) {
        delivery.replay(TOPIC + x, n);
        wire = { ...wire, [TOPIC + x]: 0 };
      }
    }
    const id = acks.expect((reply) => {
      if (reply.op === 'ack') return delivery.subAck(reply['results'], since);
      for (const x of topics) subs.retry(x);
      for (const ch of Object.keys(since ?? {})) pos.recovering.delete(ch);
      error(String(reply['code']), String(reply['message']));
      setTimeout(() => this.sync(), this.d.retryMs);
    });
    const frame = wire === undefined ? { op: 'sub', id, topics } : { op: 'sub', id, topics, since: wire, epoch: pos.era };
    this.d.out?.(frame);
    t.send(frame);
  }
}
