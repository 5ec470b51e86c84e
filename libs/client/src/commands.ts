/**
 * What the client asks of the gateway on a live connection: `sub` / `unsub` (with `since`
 * for recovery) and `auth` over WebSocket; over SSE, where there are no commands, the same
 * intents reopen the stream with the new topics or token from the last event id.
 * @module
 */
import { MAX_TOPICS_PER_FRAME } from '@herald/protocol';
import type { Acks } from './acks.js';
import type { Delivery } from './delivery.js';
import { HeraldError, type HeraldErrorDetails } from './errors.js';
import { readEventId } from './positions.js';
import type { Subscriptions } from './subscriptions.js';
import type { TokenSource } from './token.js';
import type { Transport } from './transport.js';
import { sseRequest, type SseRequest, type SseTransport } from './transport-sse.js';

const TOPIC = 'topic:';

/** @internal */
export interface CommandDeps {
  /** The transport once `welcome` arrived, else undefined. */
  readonly live: () => Transport | undefined;
  readonly error: (code: string, message: string, details?: HeraldErrorDetails) => void;
  readonly subs: Subscriptions;
  readonly delivery: Delivery;
  readonly tokens: TokenSource;
  readonly acks: Acks;
  readonly sseEndpoint: string;
  readonly tokenIn: 'query' | 'header';
  /** Wait before asking again after an `err` reply, in ms. */
  readonly retryMs: number;
}

/** @internal */
export class Commands {
  /** Topics of the current SSE stream, sorted. */
  sseTopics: string[] = [];
  /** The current SSE stream was asked to resume from an event id. */
  sseResumed = false;
  /** The last SSE event id received: the server's position of every channel of its stream. */
  streamId: string | undefined;
  readonly #d: CommandDeps;

  constructor(deps: CommandDeps) {
    this.#d = deps;
  }

  /** Sends what the connection lacks: `unsub` for topics left, `sub` (with `since`) for topics wanted. */
  sync(): void {
    const t = this.#d.live();
    if (t === undefined) return;
    if (t.name === 'sse') {
      const before = this.sseTopics.join();
      const request = this.sseRequest(this.#d.tokens.current);
      if (this.sseTopics.join() !== before) (t as SseTransport).reopen(request);
      return;
    }
    const leave = this.#d.subs.takeToUnsubscribe();
    for (let i = 0; i < leave.length; i += MAX_TOPICS_PER_FRAME) {
      t.send({ op: 'unsub', id: this.#d.acks.expect(() => undefined), topics: leave.slice(i, i + MAX_TOPICS_PER_FRAME) });
    }
    const join = this.#d.subs.takeToSubscribe();
    for (let i = 0; i < join.length; i += MAX_TOPICS_PER_FRAME) this.#sub(t, join.slice(i, i + MAX_TOPICS_PER_FRAME), []);
  }

  /** A gap on `ch`: `sub` with `since` (WebSocket; `topics: []` for the personal channel), or a resumed stream (SSE). */
  recover(ch: string): void {
    const t = this.#d.live();
    if (t === undefined) return;
    if (t.name === 'sse') (t as SseTransport).reopen(this.sseRequest(this.#d.tokens.current));
    else if (ch.startsWith(TOPIC)) this.#sub(t, [ch.slice(TOPIC.length)], []);
    else this.#sub(t, [], [ch]);
  }

  /** `refresh`: a token from `getToken()`, then {@link auth}. */
  refresh(): void {
    const { tokens, error } = this.#d;
    if (!tokens.canRefresh) return error('token_expiring', 'token expires soon; no getToken');
    tokens.fresh().then(
      (token) => this.auth(token).catch((e: HeraldError) => error(e.code, e.message)),
      (err: unknown) => error('token_unavailable', 'getToken() failed', { cause: err }),
    );
  }

  /**
   * A new token without a new connection: `auth` on a live WebSocket (kept only once accepted),
   * the stream resumed with it over SSE, or kept for the next connection. Then the topics refused
   * as `forbidden` that it allows are asked for again. Rejects on `token_invalid` / `token_mismatch`.
   */
  auth(token: string): Promise<void> {
    const { tokens, subs, acks, delivery } = this.#d;
    const take = (): void => {
      tokens.set(token);
      subs.allowed((topic) => tokens.allows(topic));
    };
    return new Promise((resolve, reject) => {
      const t = this.#d.live();
      if (t === undefined || t.name === 'sse') {
        take();
        if (t) (t as SseTransport).reopen(this.sseRequest(token));
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

  /** The stream request for the topics wanted now; topics the token's `topics` claim refuses fail here, as a `sub` would. */
  sseRequest(token: string | undefined): SseRequest {
    const { subs, tokens, delivery } = this.#d;
    subs.takeToSubscribe();
    subs.takeToUnsubscribe();
    const topics: string[] = [];
    for (const topic of subs.topics()) {
      if (subs.refused(topic)) continue;
      if (tokens.allows(topic)) topics.push(topic);
      else delivery.subAck({ [TOPIC + topic]: { ok: false, code: 'forbidden' } }, undefined);
    }
    this.sseTopics = topics.sort();
    const pos = delivery.positions;
    // The server's id knows where channels that delivered nothing yet stand; what was delivered here wins.
    const eventId = pos.eventId(readEventId(this.streamId, pos.epoch));
    this.sseResumed = eventId !== undefined;
    return sseRequest(this.#d.sseEndpoint, topics, token, eventId, this.#d.tokenIn);
  }

  /** `sub` for `topics`, recovering them and `extra` channels from the positions held. */
  #sub(t: Transport, topics: readonly string[], extra: readonly string[]): void {
    const { acks, delivery, subs, error } = this.#d;
    const pos = delivery.positions;
    const since = pos.since([...topics.map((x) => TOPIC + x), ...extra]);
    const id = acks.expect((reply) => {
      if (reply.op === 'ack') return delivery.subAck(reply['results'], since);
      for (const x of topics) subs.retry(x);
      for (const ch of Object.keys(since ?? {})) pos.recovering.delete(ch);
      error(String(reply['code']), String(reply['message']));
      setTimeout(() => this.sync(), this.#d.retryMs);
    });
    t.send(since === undefined ? { op: 'sub', id, topics } : { op: 'sub', id, topics, since, epoch: pos.epoch });
  }
}
