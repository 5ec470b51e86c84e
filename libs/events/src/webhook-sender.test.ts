import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '@herald/telemetry';
import { makeEvent, type AnyEvent } from './event.js';
import { MemoryEventHub } from './memory-hub.js';
import { parseSecret, verifySignature } from './signature.js';
import { parseWebhookTargets } from './webhook-target.js';
import { startMemoryWebhooks, type WebhookRunner } from './webhooks.js';

const SECRET = 'whsec_' + Buffer.alloc(32, 3).toString('base64');

interface Received { id: string; body: string; valid: boolean }

async function receiver(status: () => number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const code = status();
      if (code === 200) {
        const valid = verifySignature(parseSecret(SECRET), {
          id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']), signature: String(req.headers['webhook-signature']),
        }, body);
        got.push({ id: String(req.headers['webhook-id']), body, valid });
      }
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function start(hub: MemoryEventHub, url: string, extra: Partial<Parameters<typeof startMemoryWebhooks>[1]> = {}): WebhookRunner & { deadLetters: readonly { id: string }[] } {
  const runner = startMemoryWebhooks(hub, {
    targets: parseWebhookTargets(url), keys: [parseSecret(SECRET)], retryMs: 60_000, timeoutMs: 1000, concurrency: 4, maxPending: 100,
    backoff: { baseMs: 20, capMs: 100 }, registry: new Registry(), ...extra,
  });
  cleanup.push(() => runner.close());
  return runner;
}

const ev = (i: number, user = 'u'): AnyEvent => makeEvent(i % 2 === 0 ? 'user.online' : 'user.offline', `evt_${i}`, { user });

describe('webhook sender (memory mode)', () => {
  it('delivers signed events in order per user after the receiver recovers', async () => {
    let down = true;
    const r = await receiver(() => (down ? 503 : 200));
    cleanup.push(() => new Promise((res) => r.server.close(() => res())));
    const hub = new MemoryEventHub();
    const runner = start(hub, r.url);
    for (let i = 0; i < 6; i++) await hub.publish(ev(i, i < 3 ? 'a' : 'b'));
    await new Promise((res) => setTimeout(res, 300));
    down = false;
    while (r.got.length < 6) await new Promise((res) => setTimeout(res, 20));
    expect(r.got.every((g) => g.valid)).toBe(true);
    const a = r.got.filter((g) => JSON.parse(g.body).data.user === 'a').map((g) => g.id);
    expect(a).toEqual(['evt_0', 'evt_1', 'evt_2']);
    // The receiver records before it answers: the sender lets go once the answer is in.
    while (runner.senders[0]?.pending !== 0) await new Promise((res) => setTimeout(res, 10));
  });

  it('filters by type, and dead-letters after the retry horizon', async () => {
    const r = await receiver(() => 500);
    cleanup.push(() => new Promise((res) => r.server.close(() => res())));
    const hub = new MemoryEventHub();
    const runner = start(hub, `${r.url}#user.offline`, { retryMs: 200 });
    await hub.publish(ev(0));
    await hub.publish(ev(1));
    while (runner.deadLetters.length < 1) await new Promise((res) => setTimeout(res, 20));
    expect(runner.deadLetters.map((d) => d.id)).toEqual(['evt_1']);
    expect(runner.senders[0]?.pending).toBe(0);
  });

  it('bounds what it holds: beyond maxPending events are dropped and counted, production never waits', async () => {
    const r = await receiver(() => 503);
    cleanup.push(() => new Promise((res) => r.server.close(() => res())));
    const hub = new MemoryEventHub();
    const runner = start(hub, r.url, { maxPending: 5 });
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await hub.publish(ev(i, `u${i}`));
    expect(performance.now() - t0).toBeLessThan(200);
    expect(runner.senders[0]?.pending).toBe(5);
  });
});
