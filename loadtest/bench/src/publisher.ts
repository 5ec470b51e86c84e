/**
 * The publisher: a separate process (like the load generators, so its CPU is never counted
 * as server CPU and the bench's main process stays off the hot path) that POSTs messages
 * open-loop: message i is due at start + i / rate whatever earlier answers did, with at most
 * `maxInFlight` requests outstanding on keep-alive connections. A sequential loop would
 * slow down with the server and hide overload; here falling behind shows as a lower
 * achieved rate and a growing lag.
 * @module
 */
import { notification } from './common.js';
import { RawHttpPool } from './raw-http.js';

/**
 * What each message targets: one topic, or a random user among `users` (`u0`…). With
 * `batch` > 1, user messages go `batch` at a time in one `POST <url>/batch` request
 * (`{"messages":[…]}`); rates and counts stay in messages.
 */
/** What each request carries; `headers` are sent with every request (the tracing scenario's trace headers). */
export type BodySpec = ({ kind: 'topic'; topic: string } | { kind: 'user'; users: number; batch?: number }) & { headers?: Readonly<Record<string, string>> };

export interface PublishCmd {
  type: 'publish';
  url: string;
  apiKey: string;
  rate: number;
  messages: number;
  body: BodySpec;
  maxInFlight: number;
}

export interface Published {
  type: 'published';
  /** Requests answered 2xx (a batch request counts once). */
  ok: number;
  /** Requests answered non-2xx, failed or timed out. */
  errors: number;
  firstError: string;
  /** Messages sent over the time it took to send them (the requested rate when on schedule). */
  achievedPerS: number;
  /** Worst delay of a send behind its schedule, ms. */
  lagMaxMs: number;
  cpuMs: number;
  wallMs: number;
  /** Messages per user index (kind 'user' only). */
  perUser: number[];
}

/** A request that gets no answer within this long counts as an error (never wait forever). */
const REQUEST_TIMEOUT_MS = 10_000;

function publish(cmd: PublishCmd): Promise<Published> {
  const batch = cmd.body.kind === 'user' ? Math.max(1, Math.floor(cmd.body.batch ?? 1)) : 1;
  const url = new URL(batch > 1 ? `${cmd.url}/batch` : cmd.url);
  // at most maxInFlight sockets: one request in flight on each
  const pool = new RawHttpPool(url, { 'content-type': 'application/json', authorization: `Bearer ${cmd.apiKey}`, ...cmd.body.headers }, REQUEST_TIMEOUT_MS);
  const perUser = cmd.body.kind === 'user' ? new Array<number>(cmd.body.users).fill(0) : [];
  // one request carries `batch` messages: requests are due `batch` times less often
  const requests = Math.ceil(cmd.messages / batch);
  const intervalMs = (1000 * batch) / cmd.rate;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let next = 0;
  let inFlight = 0;
  let ok = 0;
  let errors = 0;
  let firstError = '';
  let lagMaxMs = 0;
  let lastSendAt = start;
  let timer: NodeJS.Timeout | undefined;

  const userMessage = (users: number, i: number): { user: string; data: unknown } => {
    const u = Math.floor(Math.random() * users);
    perUser[u] = (perUser[u] ?? 0) + 1;
    return { user: `u${u}`, data: notification(i) };
  };
  /** Body of request `r` (messages r × batch onwards). */
  const bodyOf = (r: number): string => {
    if (cmd.body.kind === 'topic') return JSON.stringify({ topic: cmd.body.topic, data: notification(r) });
    if (batch === 1) return JSON.stringify(userMessage(cmd.body.users, r));
    const messages = [];
    for (let i = r * batch; i < Math.min(cmd.messages, (r + 1) * batch); i++) messages.push(userMessage(cmd.body.users, i));
    return JSON.stringify({ messages });
  };

  return new Promise((resolveDone) => {
    const fail = (why: string): void => {
      errors++;
      if (!firstError) firstError = why;
    };
    const send = (i: number, done: () => void): void => {
      const now = performance.now();
      lagMaxMs = Math.max(lagMaxMs, now - (start + i * intervalMs));
      lastSendAt = now;
      post(bodyOf(i), done);
    };
    const post = (body: string, done: () => void): void => {
      pool.post(body, (o) => {
        if ('status' in o && o.status >= 200 && o.status < 300) ok++;
        else fail('status' in o ? `HTTP ${o.status}` : o.error);
        done();
      });
    };
    const finish = (): void => {
      const cpu = process.cpuUsage(cpu0);
      pool.close();
      const sentS = (lastSendAt - start) / 1000 + batch / cmd.rate;
      resolveDone({
        type: 'published', ok, errors, firstError, achievedPerS: cmd.messages / sentS, lagMaxMs,
        cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - start, perUser,
      });
    };
    // Sends whatever is due and allowed, then sleeps until the next message is due.
    const pump = (): void => {
      const due = Math.min(requests, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (next < due && inFlight < cmd.maxInFlight) {
        inFlight++;
        send(next++, () => { inFlight--; pump(); });
      }
      if (next >= requests) {
        if (inFlight === 0) finish();
        return;
      }
      if (timer === undefined && inFlight < cmd.maxInFlight) {
        timer = setTimeout(() => { timer = undefined; pump(); }, Math.max(0, start + next * intervalMs - performance.now()));
      }
    };
    if (cmd.messages <= 0) finish();
    else pump();
  });
}

process.on('message', (cmd: PublishCmd | { type: 'exit' }) => {
  if (cmd.type === 'exit') process.exit(0);
  publish(cmd).then(
    (r) => process.send?.(r),
    (err: unknown) => process.send?.({ type: 'error', message: String(err) }),
  );
});
process.send?.({ type: 'ready' });
