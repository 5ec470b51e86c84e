/**
 * A webhook receiver for tests: a real HTTP server that records every delivery (its
 * `webhook-id`, body and arrival time), checks the Standard Webhooks signature when given the
 * secret (HMAC-SHA256 over `id.timestamp.body`, a `v1,<base64>` entry of `webhook-signature`,
 * timestamp within 5 minutes), and answers 204. It can be told to refuse for a while.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  /** The `webhook-id` header. */
  readonly id: string;
  readonly body: string;
  /** Date.now() at arrival. */
  readonly at: number;
  /** The signature checked out (false without a secret to check it with). */
  readonly signed: boolean;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>`. */
  readonly url: string;
  /** Every accepted delivery, in arrival order. */
  readonly received: ReceivedWebhook[];
  /** While set, deliveries are answered with this status and not recorded (a receiver that is down). */
  refuseWith: number | undefined;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** The Standard Webhooks secret Herald signs with (`whsec_` + base64). */
  readonly secret?: string;
  /** Default `/hooks/herald`. */
  readonly path?: string;
}

const MAX_SKEW_S = 300;

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return typeof v === 'string' ? v : '';
}

/** True when `webhook-signature` holds a valid v1 signature of the body with `key`. */
export function verifyWebhookSignature(req: IncomingMessage, body: string, key: Buffer): boolean {
  const id = header(req, 'webhook-id');
  const ts = header(req, 'webhook-timestamp');
  if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > MAX_SKEW_S) return false;
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
  return header(req, 'webhook-signature').split(' ').some((entry) => {
    const [v, sig] = entry.split(',', 2);
    const given = Buffer.from(sig ?? '', 'base64');
    return v === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const key = options.secret === undefined ? undefined : Buffer.from(options.secret.replace(/^whsec_/, ''), 'base64');
  const received: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (receiver.refuseWith !== undefined) return void res.writeHead(receiver.refuseWith, { connection: 'close' }).end();
      const body = Buffer.concat(chunks).toString();
      received.push({ id: header(req, 'webhook-id'), body, at: Date.now(), signed: key !== undefined && verifyWebhookSignature(req, body, key) });
      res.writeHead(204, { connection: 'close' }).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.path ?? '/hooks/herald'}`,
    received,
    refuseWith: undefined,
    close() {
      server.closeAllConnections();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
  return receiver;
}
