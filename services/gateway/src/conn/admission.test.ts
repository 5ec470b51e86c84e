// Unit tests of upgrade admission and its token buckets (node rate, per IP, per connection).
import { describe, expect, it } from 'vitest';
import { Admission, normalizeOrigin } from './admission.js';
import { Connections } from './registry.js';
import { KeyedBuckets, TokenBucket, refillAndTake } from './rate.js';

describe('token buckets', () => {
  it('gives the burst at once, then refills at the rate', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
    expect([b.take(10_000), b.take(10_000), b.take(10_000), b.take(10_000)]).toEqual([true, true, true, false]); // capped at burst
  });

  it('refillAndTake works on plain numbers (the per-connection bucket)', () => {
    expect(refillAndTake(0.5, 0, 100, 10, 5)).toBeCloseTo(0.5);
    expect(refillAndTake(0.5, 0, 0, 10, 5)).toBe(-1);
    expect(refillAndTake(4.5, 0, 10_000, 10, 5)).toBe(4);
  });

  it('keeps one bucket per key and forgets idle ones', () => {
    const k = new KeyedBuckets(1, 1);
    expect(k.take('1.1.1.1', 0)).toBe(true);
    expect(k.take('1.1.1.1', 0)).toBe(false);
    expect(k.take('2.2.2.2', 0)).toBe(true);
    k.sweep(500);
    expect(k.size).toBe(2);
    k.sweep(1000);
    expect(k.size).toBe(0);
  });
});

describe('Admission', () => {
  const head = (origin = '', ip = '10.0.0.1') => ({ origin, ip });

  it('checks draining, then origin, then capacity, then rates', () => {
    const conns = new Connections(1, 10);
    const a = new Admission({ allowedOrigins: ['https://App.example.com/'], connections: conns, upgradeRate: 1, perIpRate: undefined }, 0);
    expect(a.check(head('https://evil.example'), 0)).toMatchObject({ status: 403, code: 'origin_not_allowed' });
    expect(a.check(head('https://app.example.com'), 0)).toBeUndefined();
    expect(a.check(head(), 0)).toMatchObject({ status: 503, code: 'overloaded', retryAfterS: 1 }); // rate: burst 1 spent
    conns.beginVerify();
    expect(a.check(head(), 5000)).toMatchObject({ status: 503, code: 'overloaded', retryAfterS: 5 }); // full
    a.draining = true;
    expect(a.check(head('https://evil.example'), 5000)).toMatchObject({ status: 503, code: 'draining' });
  });

  it('allows any origin when unset or with *, and requests without Origin always', () => {
    const conns = new Connections(10, 10);
    for (const allowedOrigins of [undefined, ['*']]) {
      const a = new Admission({ allowedOrigins, connections: conns, upgradeRate: 100, perIpRate: undefined });
      expect(a.originAllowed('https://anything.example')).toBe(true);
    }
    expect(new Admission({ allowedOrigins: ['https://a.example'], connections: conns, upgradeRate: 1, perIpRate: undefined }).originAllowed('')).toBe(true);
  });

  it('limits upgrades per IP with 429', () => {
    const a = new Admission({ allowedOrigins: undefined, connections: new Connections(10, 10), upgradeRate: 100, perIpRate: 2 }, 0);
    expect(a.check(head('', 'x'), 0)).toBeUndefined();
    expect(a.check(head('', 'x'), 0)).toBeUndefined();
    expect(a.check(head('', 'x'), 0)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(a.check(head('', 'y'), 0)).toBeUndefined();
  });
});

describe('Connections', () => {
  it('counts admissions per user and node before sockets open, and frees them on close', () => {
    const c = new Connections(3, 2);
    expect([c.reserve('u'), c.reserve('u'), c.reserve('u')]).toEqual([true, true, false]);
    expect(c.reserve('v')).toBe(true);
    expect(c.hasRoom()).toBe(false);
    const st = { sub: 'u' } as Parameters<Connections['add']>[0];
    c.add(st);
    expect(c.countOfUser('u')).toBe(1);
    expect(c.ofUser('u')).toEqual([st]);
    c.remove(st);
    expect(c.countOfUser('u')).toBe(0);
    expect(c.reserve('u')).toBe(true);
    c.unreserve('v');
    expect(c.admitted).toBe(2);
  });

  it("keeps a user's open connections in order; a list handed out does not change when they close", () => {
    const c = new Connections(10, 5);
    const [a, b, d] = ['a', 'b', 'd'].map((connId) => ({ connId, sub: 'u' }) as Parameters<Connections['add']>[0]);
    for (const st of [a, b, d]) {
      expect(c.reserve('u')).toBe(true);
      c.add(st!);
    }
    c.add(b!); // a second open of the same socket changes nothing
    const before = c.ofUser('u');
    expect(before).toEqual([a, b, d]);
    c.remove(b!);
    expect(before).toEqual([a, b, d]);
    expect(c.ofUser('u')).toEqual([a, d]);
    expect(c.countOfUser('u')).toBe(2);
    c.remove(b!); // already gone
    c.remove(a!);
    c.remove(d!);
    expect(c.ofUser('u')).toEqual([]);
    expect(c.countOfUser('u')).toBe(0);
    expect(c.admitted).toBe(0);
  });
});

describe('normalizeOrigin', () => {
  it('ignores case and trailing slashes', () => {
    expect(normalizeOrigin(' HTTPS://App.Example.com/ ')).toBe('https://app.example.com');
  });
});
