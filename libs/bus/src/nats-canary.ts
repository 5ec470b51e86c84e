/**
 * The canary behind NatsBus.probe(): a message published through JetStream to the
 * node's canary subject, timed until its RePublish copy comes back.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient } from '@nats-io/jetstream';
import { BusError } from './errors.js';
import { withTimeout } from './nats-control.js';
import { HDR_TS } from './nats-stream.js';
import { canaryChannel, DEFAULT_SUBJECTS, type SubjectScheme } from './subjects.js';

/** Probes the publish → store → republish → subscribe path. Canary history is capped per subject like any channel. */
export class Canary {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #timeoutMs: number;
  readonly #subjects: SubjectScheme;
  /** One subscription per probed node id, made on first use and kept. */
  readonly #subscribed = new Map<string, Promise<void>>();
  /** Pending probes by nonce (the payload). */
  readonly #waiting = new Map<string, () => void>();

  constructor(nc: NatsConnection, js: JetStreamClient, timeoutMs: number, subjects: SubjectScheme = DEFAULT_SUBJECTS) {
    this.#nc = nc;
    this.#js = js;
    this.#timeoutMs = timeoutMs;
    this.#subjects = subjects;
  }

  /** Resolves with the round trip in ms; rejects with BusError('timeout') or ('unavailable'). */
  async probe(nodeId: string, timeoutMs: number): Promise<number> {
    const channel = canaryChannel(nodeId);
    const started = performance.now();
    await this.#subscribe(nodeId, this.#subjects.out(channel), timeoutMs);
    const nonce = JSON.stringify(randomBytes(9).toString('base64url'));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(nonce);
        reject(new BusError('timeout', `canary of ${nodeId} did not return within ${timeoutMs} ms`));
      }, Math.max(0, timeoutMs - (performance.now() - started)));
      this.#waiting.set(nonce, () => {
        clearTimeout(timer);
        this.#waiting.delete(nonce);
        resolve(performance.now() - started);
      });
      const h = headers();
      h.set(HDR_TS, String(Date.now()));
      this.#js.publish(this.#subjects.in(channel), nonce, { headers: h, timeout: Math.max(1, Math.min(timeoutMs, this.#timeoutMs)) }).catch((err: unknown) => {
        if (!this.#waiting.delete(nonce)) return;
        clearTimeout(timer);
        reject(new BusError('unavailable', 'canary publish was not acknowledged', { cause: err }));
      });
    });
  }

  #subscribe(nodeId: string, subject: string, timeoutMs: number): Promise<void> {
    let done = this.#subscribed.get(nodeId);
    if (!done) {
      this.#nc.subscribe(subject, { callback: (err, msg) => void (err || this.#waiting.get(msg.string())?.()) });
      done = withTimeout(this.#nc.flush(), Math.max(1, Math.min(timeoutMs, this.#timeoutMs)));
      this.#subscribed.set(nodeId, done);
      // The subscription stays (NATS re-sends it after a reconnect); only the confirmation is retried.
      done.catch(() => this.#subscribed.set(nodeId, Promise.resolve()));
    }
    return done;
  }
}
