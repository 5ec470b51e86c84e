/**
 * A stand-in RFC 8030 push service for tests (no public push service is reachable from CI):
 * an HTTP server on a free loopback port with one endpoint per subscription. Each POST is
 * checked as a real push service would: TTL / Urgency / Topic headers (RFC 8030), the VAPID
 * `Authorization: vapid t=…, k=…` JWT (RFC 8292), and the aes128gcm body is decrypted with the
 * subscription's private key and auth secret (RFC 8291), on node:crypto alone. Tests can make
 * a subscription answer 404/410/429/5xx.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decryptAes128gcm, generateUaKeys, verifyVapid, type UaKeys, type VapidClaims } from './push-crypto.js';
import { waitFor } from './wait.js';

/** RFC 8291 §4: a push message body is at most 4096 octets. */
const MAX_BODY_BYTES = 4096;
const URGENCY = new Set(['very-low', 'low', 'normal', 'high']);
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

export interface TestPushSubscription {
  readonly id: string;
  /** What `PushSubscription.toJSON()` gives a page. */
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  /** The user agent's private side (what only the browser holds). */
  readonly ua: UaKeys;
}

export interface ReceivedPush {
  readonly subscriptionId: string;
  readonly payload: Buffer;
  readonly text: string;
  readonly ttl: number;
  readonly urgency: string | undefined;
  readonly topic: string | undefined;
  readonly vapid: VapidClaims;
  readonly bodyBytes: number;
}

/** Every request the service answered, accepted or not. */
export interface PushRequestRecord {
  readonly subscriptionId: string;
  readonly status: number;
  readonly reason?: string;
}

export interface ForcedAnswer {
  readonly status: number;
  /** Retry-After header value (seconds or an HTTP date). */
  readonly retryAfter?: string;
}

export interface PushServiceHandle {
  /** `http://127.0.0.1:<port>`: give it to the sender's endpoint allow-list. */
  readonly origin: string;
  readonly received: readonly ReceivedPush[];
  readonly requests: readonly PushRequestRecord[];
  /** A new subscription; with `applicationServerKey`, pushes signed by another VAPID key get 403 (RFC 8292 §4.2). */
  createSubscription(options?: { applicationServerKey?: string }): TestPushSubscription;
  /** The next requests to `id` get these answers (after verification), in order. */
  answerNext(id: string, ...answers: ForcedAnswer[]): void;
  /** Every later request to `id` gets `status` (e.g. 410: the user unsubscribed); `undefined` ends it. */
  answerAlways(id: string, status: number | undefined): void;
  pushesFor(id: string): readonly ReceivedPush[];
  /** Resolves once at least `count` pushes were accepted in all. */
  waitForPushes(count: number, timeoutMs?: number): Promise<readonly ReceivedPush[]>;
  close(): Promise<void>;
}

interface Entry {
  readonly sub: TestPushSubscription;
  readonly serverKey: string | undefined;
  readonly queue: ForcedAnswer[];
  always: number | undefined;
}

class Refusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startPushService(): Promise<PushServiceHandle> {
  const entries = new Map<string, Entry>();
  const received: ReceivedPush[] = [];
  const requests: PushRequestRecord[] = [];
  let messages = 0;
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const answer = (status: number, reason?: string, headers: Record<string, string> = {}): void => {
      requests.push({ subscriptionId: id, status, ...(reason ? { reason } : {}) });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(reason ?? '');
    };
    try {
      if (req.method !== 'POST') throw new Refusal(405, 'POST only');
      const entry = entries.get(id);
      if (!entry) throw new Refusal(404, 'no such subscription');
      const body = await readBody(req);
      const push = checkPush(req, body, entry, origin);
      const forced = entry.queue.shift() ?? (entry.always !== undefined ? { status: entry.always } : undefined);
      if (forced) return answer(forced.status, 'forced', forced.retryAfter ? { 'retry-after': forced.retryAfter } : {});
      received.push(push);
      answer(201, undefined, { location: `${origin}/message/${++messages}` });
    } catch (err) {
      if (err instanceof Refusal) answer(err.status, err.message);
      else answer(400, (err as Error).message);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    requests,
    createSubscription(options = {}) {
      const id = randomBytes(12).toString('base64url');
      const ua = generateUaKeys();
      const sub: TestPushSubscription = {
        id,
        endpoint: `${origin}/push/${id}`,
        keys: { p256dh: ua.publicKey.toString('base64url'), auth: ua.authSecret.toString('base64url') },
        ua,
      };
      entries.set(id, { sub, serverKey: options.applicationServerKey, queue: [], always: undefined });
      return sub;
    },
    answerNext(id, ...answers) {
      entries.get(id)?.queue.push(...answers);
    },
    answerAlways(id, status) {
      const entry = entries.get(id);
      if (entry) entry.always = status;
    },
    pushesFor: (id) => received.filter((p) => p.subscriptionId === id),
    waitForPushes: (count, timeoutMs = 10_000) => waitFor(() => received.length >= count && [...received], timeoutMs, `${count} pushes`),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The checks of a real push service, in the order one would make them; throws a Refusal. */
function checkPush(req: IncomingMessage, body: Buffer, entry: Entry, origin: string): ReceivedPush {
  const ttlHeader = req.headers['ttl'];
  if (typeof ttlHeader !== 'string' || !/^\d{1,10}$/.test(ttlHeader)) throw new Refusal(400, 'TTL header missing or not a number (RFC 8030 §5.2)');
  const urgency = req.headers['urgency'] as string | undefined;
  if (urgency !== undefined && !URGENCY.has(urgency)) throw new Refusal(400, 'bad Urgency (RFC 8030 §5.3)');
  const topic = req.headers['topic'] as string | undefined;
  if (topic !== undefined && !TOPIC.test(topic)) throw new Refusal(400, 'bad Topic (RFC 8030 §5.4)');
  let vapid: VapidClaims;
  try {
    vapid = verifyVapid(req.headers['authorization'], origin);
  } catch (err) {
    throw new Refusal(401, (err as Error).message);
  }
  if (entry.serverKey !== undefined && vapid.publicKey !== entry.serverKey) throw new Refusal(403, 'VAPID key is not the subscription\'s applicationServerKey');
  if (req.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(415, 'Content-Encoding must be aes128gcm (RFC 8291)');
  let payload: Buffer;
  try {
    payload = decryptAes128gcm(body, entry.sub.ua);
  } catch (err) {
    throw new Refusal(400, `decryption failed: ${(err as Error).message}`);
  }
  return {
    subscriptionId: entry.sub.id,
    payload,
    text: payload.toString('utf8'),
    ttl: Number(ttlHeader),
    urgency,
    topic,
    vapid,
    bodyBytes: body.length,
  };
}

export { generateUaKeys, decryptAes128gcm, verifyVapid, type UaKeys, type VapidClaims } from './push-crypto.js';
