/**
 * The error catalogue of @herald/push: one string `code` per failure, the original error as `cause`.
 * @module
 */

export type PushErrorCode =
  /** The subscription (endpoint URL or keys) is not acceptable. */
  | 'invalid_subscription'
  /** The user already has the maximum number of subscriptions (only with `onFull: 'reject'`). */
  | 'too_many_subscriptions'
  /** The plaintext does not fit one RFC 8291 record. */
  | 'payload_too_large'
  /** A send option (TTL, Urgency, Topic) is out of its RFC 8030 range. */
  | 'invalid_options'
  /** VAPID keys or subject are missing or malformed. */
  | 'invalid_vapid';

export class PushError extends Error {
  readonly code: PushErrorCode;
  constructor(code: PushErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PushError';
    this.code = code;
  }
}
