// permessage-deflate (HERALD_WS_COMPRESSION): negotiated only when enabled and offered; frames stay intact.
import { afterEach, describe, expect, it } from 'vitest';
import { connectWs, type WsTestClient } from '@herald/testkit';
import { mint, startTestGateway, type TestGateway } from './helpers.js';

let gw: TestGateway | undefined;
const clients: WsTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await gw?.close();
  gw = undefined;
});

async function roundTrip(mode: string): Promise<{ extensions: string; data: unknown[] }> {
  gw = await startTestGateway({ WS_COMPRESSION: mode });
  const c = await connectWs(gw.url, { token: mint({ sub: 'z' }) }); // the ws client offers permessage-deflate
  clients.push(c);
  await c.request({ op: 'sub', id: 1, topics: ['news'] });
  const payload = { kind: 'order.updated', order: { id: 42, status: 'shipped', items: [{ sku: 'ABC-123', qty: 2 }] } };
  await gw.publish('topic:news', payload);
  await gw.publish('user:z', payload);
  const msgs = [...(await c.waitMessages('topic:news', 1)), ...(await c.waitMessages('user:z', 1))];
  return { extensions: c.ws.extensions, data: msgs.map((m) => m.data) };
}

describe('WebSocket compression', () => {
  it('is off by default: nothing negotiated', async () => {
    const r = await roundTrip('off');
    expect(r.extensions).toBe('');
    expect(r.data).toHaveLength(2);
  });
  it('negotiates permessage-deflate when enabled, and fan-out and direct sends decode intact', async () => {
    const r = await roundTrip('shared');
    expect(r.extensions).toContain('permessage-deflate');
    expect(r.data).toEqual([
      { kind: 'order.updated', order: { id: 42, status: 'shipped', items: [{ sku: 'ABC-123', qty: 2 }] } },
      { kind: 'order.updated', order: { id: 42, status: 'shipped', items: [{ sku: 'ABC-123', qty: 2 }] } },
    ]);
  });
});
