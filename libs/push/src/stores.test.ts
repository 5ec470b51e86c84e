import { describe, expect, it } from 'vitest';
import { MemoryPushClaims } from './claims.js';
import { MemorySubscriptionStore } from './memory-store.js';
import { PushRateLimiter } from './rate-limit.js';
import type { PushSubscription } from './subscription.js';

const sub = (id: string): PushSubscription => ({ id, endpoint: `https://push.example/${id}`, keys: { p256dh: 'p', auth: 'a' }, createdAt: 0 });

describe('MemorySubscriptionStore', () => {
  it('keeps at most maxPerUser, evicting the oldest, and replaces a known endpoint', async () => {
    const store = new MemorySubscriptionStore({ maxPerUser: 2 });
    await store.add('u', sub('a'));
    await store.add('u', sub('b'));
    expect(await store.add('u', sub('a'))).toEqual({ replaced: true, evicted: [] });
    expect(await store.add('u', sub('c'))).toEqual({ replaced: false, evicted: ['b'] });
    expect((await store.list('u')).map((s) => s.id)).toEqual(['a', 'c']);
    expect(await store.remove('u', 'a')).toBe(true);
    expect(await store.remove('u', 'a')).toBe(false);
  });

  it('bounds the number of users', async () => {
    const store = new MemorySubscriptionStore({ maxUsers: 2 });
    for (const u of ['u1', 'u2', 'u3']) await store.add(u, sub(u));
    expect(await store.list('u1')).toEqual([]);
    expect((await store.list('u3')).length).toBe(1);
  });
});

describe('MemoryPushClaims', () => {
  it('gives a message to one claimer, lets another take over after the lease, and ends at done', async () => {
    let now = 0;
    const claims = new MemoryPushClaims({ now: () => now });
    const first = await claims.claim('m', 'a', 1000);
    expect(first.won).toBe(true);
    expect(await claims.claim('m', 'b', 1000)).toMatchObject({ won: false, reason: 'held', retryInMs: 1000 });
    now = 1001;
    const second = await claims.claim('m', 'b', 1000);
    expect(second).toMatchObject({ won: true, takeover: true });
    if (!first.won || !second.won) throw new Error('unreachable');
    expect(await claims.done(first.token, 'a')).toBe(false); // lost its lease
    expect(await claims.done(second.token, 'b')).toBe(true);
    expect(await claims.claim('m', 'c', 1000)).toMatchObject({ won: false, reason: 'done' });
  });
});

describe('PushRateLimiter', () => {
  it('allows a burst of perMinute, then refills over the minute', () => {
    let now = 0;
    const rl = new PushRateLimiter({ perMinute: 3, now: () => now });
    expect([rl.take('u'), rl.take('u'), rl.take('u'), rl.take('u')]).toEqual([true, true, true, false]);
    expect(rl.take('v')).toBe(true);
    now = 20_000; // a third of a minute: one token back
    expect([rl.take('u'), rl.take('u')]).toEqual([true, false]);
  });

  it('does not limit at 0', () => {
    const rl = new PushRateLimiter({ perMinute: 0 });
    expect(Array.from({ length: 100 }, () => rl.take('u')).every(Boolean)).toBe(true);
  });
});
