/**
 * One API call with retries: send, classify the outcome, wait (backoff, Retry-After), send the
 * very same request again, within the attempt and time bounds.
 */
import { HeraldApiError, HeraldRequestError } from './errors.js';
import { nextDelay, isRetryableStatus, parseRetryAfter, type RetryOptions } from './retry.js';

/** Told before each retry (for logs and metrics). */
export interface RetryInfo {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The wait before the next attempt, in ms. */
  readonly delayMs: number;
  /** The wire code of the answer, or `timeout` / `network_error`. */
  readonly reason: string;
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
}

export interface TransportConfig {
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly timeoutMs: number;
  readonly retry: RetryOptions;
  readonly fetch: typeof fetch;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Relative to the base URL, no leading slash: `v1/publish`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly signal?: AbortSignal | undefined;
}

type Outcome =
  | { readonly kind: 'ok'; readonly json: unknown }
  | { readonly kind: 'error'; readonly error: HeraldApiError; readonly retryable: boolean }
  | { readonly kind: 'failed'; readonly code: 'network_error' | 'timeout'; readonly cause: unknown };

/** Sends `spec`, retrying per `config.retry`; resolves with the parsed JSON body of the 2xx answer. */
export async function request(config: TransportConfig, spec: RequestSpec): Promise<unknown> {
  const url = buildUrl(config.baseUrl, spec);
  const body = spec.body === undefined ? undefined : JSON.stringify(spec.body); // once: every attempt sends the same bytes
  const startedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(config, url, spec, body, attempt);
    if (outcome.kind === 'ok') return outcome.json;
    if (spec.signal?.aborted) throw new HeraldRequestError('aborted', 'the request was aborted', attempt, spec.signal.reason);
    const retryable = outcome.kind === 'failed' || outcome.retryable;
    const retryAfter = outcome.kind === 'error' ? outcome.error.retryAfterMs : undefined;
    const delay = retryable ? nextDelay(attempt, startedAt, Date.now(), retryAfter, config.retry) : undefined;
    if (delay === undefined) {
      if (outcome.kind === 'error') throw outcome.error;
      const what = outcome.code === 'timeout' ? `no answer within ${config.timeoutMs} ms` : 'the connection failed';
      throw new HeraldRequestError(outcome.code, `${spec.method} /${spec.path}: ${what} (${attempt} attempt${attempt > 1 ? 's' : ''})`, attempt, outcome.cause);
    }
    const reason = outcome.kind === 'error' ? outcome.error.code : outcome.code;
    config.onRetry?.({ attempt, delayMs: delay, reason, ...(outcome.kind === 'error' ? { status: outcome.error.status } : {}) });
    await sleep(delay, spec.signal, attempt);
  }
}

function buildUrl(base: URL, spec: RequestSpec): URL {
  const url = new URL(spec.path, base);
  for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

async function attemptOnce(config: TransportConfig, url: URL, spec: RequestSpec, body: string | undefined, attempt: number): Promise<Outcome> {
  // One controller for the attempt, aborted by its timeout or by the caller's signal.
  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, config.timeoutMs);
  const onAbort = (): void => ctrl.abort();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted) ctrl.abort();
  const signal = ctrl.signal;
  const headers: Record<string, string> = { authorization: `Bearer ${config.apiKey}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await config.fetch(url, { method: spec.method, headers, signal, ...(body !== undefined ? { body } : {}) });
    const text = await res.text(); // read under the same signal: a stalled body times out too
    if (res.ok) return { kind: 'ok', json: parseJson(text) };
    const error = apiError(res.status, text, parseRetryAfter(res.headers.get('retry-after')), attempt);
    return { kind: 'error', error, retryable: isRetryableStatus(res.status) };
  } catch (cause) {
    if (spec.signal?.aborted) throw new HeraldRequestError('aborted', 'the request was aborted', attempt, spec.signal.reason);
    if (timedOut) return { kind: 'failed', code: 'timeout', cause };
    if (cause instanceof SyntaxError) throw new HeraldRequestError('network_error', 'the answer was not JSON', attempt, cause);
    return { kind: 'failed', code: 'network_error', cause };
  } finally {
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
  }
}

function parseJson(text: string): unknown {
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Herald's `{"error":{"code","message","index"?}}`, or `unexpected_response` for anything else. */
function apiError(status: number, text: string, retryAfterMs: number | undefined, attempts: number): HeraldApiError {
  let code = 'unexpected_response';
  let message = `HTTP ${status}`;
  let index: number | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; index?: unknown } };
    const e = parsed.error;
    if (e && typeof e.code === 'string') {
      code = e.code;
      if (typeof e.message === 'string') message = e.message;
      if (typeof e.index === 'number') index = e.index;
    }
  } catch {
    // not JSON: a proxy's page; the status says enough
  }
  return new HeraldApiError({ code, status, message, attempts, ...(index !== undefined ? { index } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

function sleep(ms: number, signal: AbortSignal | undefined, attempts: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new HeraldRequestError('aborted', 'the request was aborted', attempts, signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new HeraldRequestError('aborted', 'the request was aborted', attempts, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
