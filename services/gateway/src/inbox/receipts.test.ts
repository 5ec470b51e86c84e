import { InboxError, MemoryInboxStore, type InboxStore } from '@herald/inbox';
import { describe, expect, it } from 'vitest';
import { HTTP_RECEIPT_RATE, MAX_IN_FLIGHT, Receipts } from './receipts.js';

const log = { warn: () => undefined, debug: () => undefined } as never;

describe('Receipts', () => {
  it('applies delivered and read receipts to the store', async () => {
    const store = new MemoryInboxStore();
    const a = await store.append('u', { data: '1' });
    const b = await store.append('u', { data: '2' });
    const r = new Receipts({ store: () => Promise.resolve(store), log });
    expect(await r.apply('u', { status: 'delivered', upTo: b.seq })).toBe('ok');
    expect(await r.apply('u', { status: 'read', seqs: [a.seq] })).toBe('ok');
    const l = await store.list('u');
    expect(l.messages.map((m) => m.state)).toEqual(['read', 'delivered']);
  });

  it('maps store errors: invalid → invalid, anything else → unavailable; caps receipts in flight', async () => {
    const failing = (err: Error): Receipts => new Receipts({ store: () => Promise.resolve({ markDelivered: () => Promise.reject(err), markRead: () => Promise.reject(err) } as unknown as InboxStore), log });
    expect(await failing(new InboxError('invalid', 'x')).apply('u', { status: 'read', upTo: 1 })).toBe('invalid');
    expect(await failing(new InboxError('unavailable', 'x')).apply('u', { status: 'read', upTo: 1 })).toBe('unavailable');
    expect(await failing(new Error('boom')).apply('u', { status: 'delivered', upTo: 1 })).toBe('unavailable');
    let release: (() => void) | undefined;
    const gate = new Promise<void>((res) => (release = res));
    const slow = new Receipts({ store: () => gate.then(() => new MemoryInboxStore()), log });
    const running = Array.from({ length: MAX_IN_FLIGHT }, () => slow.apply('u', { status: 'delivered', upTo: 1 }));
    expect(await slow.apply('u', { status: 'delivered', upTo: 1 })).toBe('unavailable');
    release?.();
    expect(new Set(await Promise.all(running))).toEqual(new Set(['ok']));
  });

  it('HTTP receipts: a token bucket per user (burst 2 × rate, refilled at the rate)', () => {
    const r = new Receipts({ store: () => Promise.resolve(new MemoryInboxStore()), log });
    let ok = 0;
    for (let i = 0; i < 100; i++) if (r.takeHttp('u', 1000)) ok++;
    expect(ok).toBe(2 * HTTP_RECEIPT_RATE);
    expect(r.takeHttp('other', 1000)).toBe(true);
    expect(r.takeHttp('u', 1100)).toBe(true); // 0.1 s → one token
    expect(r.takeHttp('u', 1100)).toBe(false);
  });
});
