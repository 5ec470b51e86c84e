/** HeraldServer: the publish API from a Node backend. */
import { randomUUID } from 'node:crypto';
import { request, type RetryInfo, type TransportConfig } from './request.js';
import { DEFAULT_RETRY, type RetryOptions } from './retry.js';
import { mintToken, type MintTokenOptions } from './token.js';
import type {
  CallOptions,
  DisconnectRequest,
  HistoryPage,
  HistoryQuery,
  PresenceQuery,
  PublishMessage,
  PublishResult,
  ChannelResult,
  TopicPresence,
  UserPresence,
} from './types.js';

export interface HeraldServerOptions {
  /** The publish API's base URL (`http://herald-api:8081`, or `herald dev`'s `http://127.0.0.1:8080`); a path prefix is kept. */
  readonly url: string | URL;
  /** One of the API's `HERALD_API_KEYS`. */
  readonly apiKey: string;
  /** The HMAC secret tokens are signed with (`HERALD_JWT_SECRET`), for {@link HeraldServer.mintToken}. */
  readonly jwtSecret?: string;
  /** Time allowed for one request, answer body included, in ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Retry bounds; see {@link RetryOptions}. */
  readonly retry?: Partial<RetryOptions>;
  /** Called before each retry. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * A client of the publish API. Every message gets an idempotency id (yours or a generated UUID) that
 * stays the same across retries, so a retry after a 503 or a timeout stores the message once.
 * @example
 * const herald = new HeraldServer({ url: 'http://127.0.0.1:8080', apiKey: process.env.HERALD_API_KEY! });
 * await herald.publish({ topic: 'news', data: { headline: 'Herald ships' } });
 */
export class HeraldServer {
  readonly #transport: TransportConfig;
  readonly #jwtSecret: string | undefined;

  constructor(options: HeraldServerOptions) {
    if (typeof options.apiKey !== 'string' || options.apiKey === '') throw new TypeError('apiKey must be a non-empty string');
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError('url must be http: or https:');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!(retry.maxAttempts >= 1) || !(retry.maxElapsedMs >= 0) || !(retry.baseDelayMs >= 0) || !(retry.maxDelayMs >= 0)) throw new TypeError('retry bounds must be non-negative numbers and maxAttempts at least 1');
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('no fetch implementation: pass options.fetch');
    this.#transport = {
      baseUrl: base,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry,
      fetch: fetchImpl,
      onRetry: options.onRetry,
    };
    this.#jwtSecret = options.jwtSecret;
  }

  /** Publishes one message to its target(s); resolves once the bus stored it. */
  async publish(message: PublishMessage, options: CallOptions = {}): Promise<PublishResult> {
    const body = withId(message);
    const json = (await request(this.#transport, { method: 'POST', path: 'v1/publish', body, signal: options.signal })) as { results: ChannelResult[] };
    return { id: body.id, results: json.results };
  }

  /**
   * Publishes many messages in one request, in order; each gets its own id. Validation failures
   * throw a `HeraldApiError` whose `index` names the first bad message (nothing was published).
   */
  async publishBatch(messages: readonly PublishMessage[], options: CallOptions = {}): Promise<PublishResult[]> {
    const bodies = messages.map(withId);
    const json = (await request(this.#transport, { method: 'POST', path: 'v1/publish/batch', body: { messages: bodies }, signal: options.signal })) as {
      results: { results: ChannelResult[] }[];
    };
    return json.results.map((r, i) => ({ id: bodies[i]!.id, results: r.results }));
  }

  /** Reads a channel's retained messages after `since`. */
  async history(query: HistoryQuery, options: CallOptions = {}): Promise<HistoryPage> {
    return (await request(this.#transport, { method: 'GET', path: 'v1/history', query: { ch: query.ch, since: query.since, limit: query.limit }, signal: options.signal })) as HistoryPage;
  }

  /** Counts a user's connections or a topic's subscribers across every gateway node. */
  presence(query: { readonly user: string }, options?: CallOptions): Promise<UserPresence>;
  presence(query: { readonly topic: string }, options?: CallOptions): Promise<TopicPresence>;
  async presence(query: PresenceQuery, options: CallOptions = {}): Promise<UserPresence | TopicPresence> {
    const q = query.user !== undefined ? { user: query.user } : { topic: query.topic };
    return (await request(this.#transport, { method: 'GET', path: 'v1/presence', query: q, signal: options.signal })) as UserPresence | TopicPresence;
  }

  /** Closes every connection of a user, on every node; resolves with how many were closed. */
  async disconnect(req: DisconnectRequest, options: CallOptions = {}): Promise<{ disconnected: number }> {
    return (await request(this.#transport, { method: 'POST', path: 'v1/disconnect', body: req, signal: options.signal })) as { disconnected: number };
  }

  /** {@link mintToken} with the `jwtSecret` given to the constructor. */
  async mintToken(claims: Omit<MintTokenOptions, 'secret' | 'privateKey'>): Promise<string> {
    if (this.#jwtSecret === undefined) throw new TypeError('mintToken needs options.jwtSecret');
    return mintToken({ ...claims, secret: this.#jwtSecret } as MintTokenOptions);
  }
}

function withId(message: PublishMessage): PublishMessage & { readonly id: string } {
  return message.id === undefined ? { ...message, id: randomUUID() } : (message as PublishMessage & { readonly id: string });
}
