/**
 * One push per message for a user, with several replicas racing: claim the message (one
 * winner), check the user's rate, send to each of the user's subscriptions, drop the ones
 * the push service calls gone, mark the claim done. Every outcome is a value, not a throw,
 * except invalid input (PushError) and store/claim I/O errors.
 * @module
 */
import type { Logger } from '@herald/telemetry';
import type { ClaimToken, PushClaims } from './claims.js';
import { assertOptions, payloadBytes, topicForMessage, type PushOptions, type Urgency } from './options.js';
import type { RateLimit } from './rate-limit.js';
import type { PushSender, SendResult } from './sender.js';
import type { SubscriptionStore } from './store.js';

export interface PushMessage {
  /** Message id: the claim key and, unless `topic` is given, the source of the Topic. */
  readonly id: string;
  readonly user: string;
  /** What the service worker receives (`event.data`); at most MAX_PAYLOAD_BYTES. */
  readonly payload: string | Uint8Array;
  readonly ttlSeconds: number;
  readonly urgency?: Urgency;
  readonly topic?: string;
}

export type DispatchOutcome =
  /** This replica sent it (to `sent` subscriptions; `gone` of them were removed). */
  | { readonly outcome: 'sent'; readonly sent: number; readonly gone: number; readonly failed: number; readonly takeover: boolean }
  /** Another replica holds the claim; if the message still needs a push, look again after `retryInMs`. */
  | { readonly outcome: 'held'; readonly retryInMs: number }
  /** The push of this message was already sent (by any replica). */
  | { readonly outcome: 'done' }
  /**
   * Every subscription failed with a retryable answer (429/5xx/network) and none got the push:
   * the claim is left to lapse; dispatch again after `retryInMs` if the message still needs a push.
   */
  | { readonly outcome: 'retry'; readonly retryInMs: number }
  /** The user is over the push rate: this message gets no push (the claim is closed). */
  | { readonly outcome: 'rate_limited' }
  /** The user has no subscription (the claim is closed). */
  | { readonly outcome: 'no_subscriptions' };

/** Waits before retrying a failed `done` write after a sent push, ms. */
const DONE_RETRIES: readonly number[] = [250, 500, 1000, 2000];

/** Default claim lease, ms. */
export const DEFAULT_LEASE_MS = 120_000;

export interface PushDispatcherOptions {
  readonly sender: PushSender;
  readonly store: SubscriptionStore;
  readonly claims: PushClaims;
  /** PushRateLimiter (per process) or KvPushRateLimiter (shared by the replicas). */
  readonly rateLimiter?: RateLimit;
  /** This replica's name (claim owner, logs). */
  readonly node: string;
  /**
   * How long a claim protects a send in progress, ms (default 120 s). Keep it above the
   * sender's worst case (attempts × timeout + waits: 3 × 10 s + 2 × 30 s = 90 s by default),
   * or a slow send can be taken over and pushed twice.
   */
  readonly leaseMs?: number;
  readonly logger?: Logger;
}

export class PushDispatcher {
  readonly #o: PushDispatcherOptions;
  readonly #leaseMs: number;

  constructor(options: PushDispatcherOptions) {
    this.#o = options;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async dispatch(message: PushMessage): Promise<DispatchOutcome> {
    const topic = message.topic ?? topicForMessage(message.id);
    const options: PushOptions = { ttlSeconds: message.ttlSeconds, topic, ...(message.urgency ? { urgency: message.urgency } : {}) };
    // Invalid input fails here, before a claim that would then block every other replica.
    assertOptions(options);
    payloadBytes(message.payload);
    const claim = await this.#o.claims.claim(message.id, this.#o.node, this.#leaseMs);
    if (!claim.won) return claim.reason === 'done' ? { outcome: 'done' } : { outcome: 'held', retryInMs: claim.retryInMs };
    return this.#claimed(message, claim.token, claim.takeover, options);
  }

  /** After winning the claim: every path ends the claim, except a retryable failure (see `retry`). */
  async #claimed(message: PushMessage, token: ClaimToken, takeover: boolean, options: PushOptions): Promise<DispatchOutcome> {
    const { claims, node, store, logger } = this.#o;
    const now = Date.now();
    const all = await store.list(message.user);
    // Expired subscriptions (the browser's expirationTime) are dropped, not pushed to.
    for (const s of all) if (s.expirationTime !== undefined && s.expirationTime <= now) await store.remove(message.user, s.id);
    const subscriptions = all.filter((s) => s.expirationTime === undefined || s.expirationTime > now);
    if (subscriptions.length === 0) {
      await claims.done(token, node);
      return { outcome: 'no_subscriptions' };
    }
    if (this.#o.rateLimiter && !(await this.#o.rateLimiter.take(message.user))) {
      await claims.done(token, node);
      logger?.info({ msg_id: message.id }, 'push rate limited');
      return { outcome: 'rate_limited' };
    }
    const results = await Promise.all(subscriptions.map((s) => this.#sendOne(message, s.id, () => this.#o.sender.send(s, message.payload, options))));
    const count = (status: SendResult['status']): number => results.filter((r) => r.status === status).length;
    const sent = count('sent');
    if (sent === 0 && results.some((r) => r.status === 'failed' && r.retryable)) {
      // Nothing reached the user and the push service may recover: leave the claim to lapse,
      // so a replica (this one included) takes it over after the lease and tries again.
      logger?.warn({ msg_id: message.id, failed: count('failed') }, 'push failed, retried after the lease');
      return { outcome: 'retry', retryInMs: this.#leaseMs };
    }
    // `done` is false when our lease ran out and another replica took over: it may send too (docs/push.md).
    if (!(await this.#done(token))) logger?.warn({ msg_id: message.id }, 'push claim lost before done');
    return { outcome: 'sent', sent, gone: count('gone'), failed: count('failed'), takeover };
  }

  /**
   * Marks the claim done after a push went out, retrying a failed write (NATS leader change)
   * a few times within the lease: a claim left `claimed` after a sent push is taken over and
   * pushed again when the lease ends.
   */
  async #done(token: ClaimToken): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#o.claims.done(token, this.#o.node);
      } catch (err) {
        if (attempt >= DONE_RETRIES.length) throw err;
        this.#o.logger?.warn({ msg_id: token.messageId, attempt: attempt + 1 }, 'push claim done failed, retrying');
        await new Promise((r) => setTimeout(r, Math.min(DONE_RETRIES[attempt] ?? 1000, this.#leaseMs / 4)));
      }
    }
  }

  async #sendOne(message: PushMessage, id: string, send: () => Promise<SendResult>): Promise<SendResult> {
    const result = await send();
    if (result.status === 'gone') {
      await this.#o.store.remove(message.user, id);
      this.#o.logger?.info({ sub: id, httpStatus: result.httpStatus }, 'push subscription gone, removed');
    }
    return result;
  }
}
