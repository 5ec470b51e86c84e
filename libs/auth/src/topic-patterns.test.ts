// Unit tests for topic-patterns.ts: grammar, matching, edge cases.
import { describe, expect, it } from 'vitest';
import { compileTopicPatterns, isValidTopicPattern } from './topic-patterns.js';

describe('isValidTopicPattern', () => {
  it.each(['news', 'a.b-c_d.E9', 'orders.*', '*', '*.x.*', 'orders.>', '>', '*.>', 'a.b.c.d.e.f.g.h', 'a.b.c.d.e.f.g.>'])(
    'accepts %j',
    (p) => expect(isValidTopicPattern(p)).toBe(true),
  );
  it.each([
    '', '.', 'a.', '.a', 'a..b', 'a b', 'a.>.b', '>.a', 'a.>>', 'a.**', 'ord*rs', 'a.b>', 'café',
    'a.b.c.d.e.f.g.h.i', 'a.b.c.d.e.f.g.h.>', 'x'.repeat(65), `${'a'.repeat(60)}.`.repeat(4) + 'a',
  ])('rejects %j', (p) => expect(isValidTopicPattern(p)).toBe(false));
  it('rejects non-strings', () => {
    expect(isValidTopicPattern(undefined)).toBe(false);
    expect(isValidTopicPattern(42)).toBe(false);
  });
});

describe('compileTopicPatterns', () => {
  it('matches exact patterns only exactly', () => {
    const m = compileTopicPatterns(['news', 'a.b']);
    expect(m.allows('news')).toBe(true);
    expect(m.allows('a.b')).toBe(true);
    expect(m.allows('news.x')).toBe(false);
    expect(m.allows('a')).toBe(false);
    expect(m.allows('NEWS')).toBe(false);
  });

  it('`*` matches exactly one segment', () => {
    const m = compileTopicPatterns(['orders.*']);
    expect(m.allows('orders.a')).toBe(true);
    expect(m.allows('orders.42')).toBe(true);
    expect(m.allows('orders')).toBe(false);
    expect(m.allows('orders.a.b')).toBe(false);
    expect(m.allows('other.a')).toBe(false);
  });

  it('`*` may appear in any position', () => {
    const m = compileTopicPatterns(['*.status', 'a.*.c']);
    expect(m.allows('x.status')).toBe(true);
    expect(m.allows('status')).toBe(false);
    expect(m.allows('x.y.status')).toBe(false);
    expect(m.allows('a.b.c')).toBe(true);
    expect(m.allows('a.b.d')).toBe(false);
    expect(m.allows('a.c')).toBe(false);
  });

  it('`>` matches one or more trailing segments', () => {
    const m = compileTopicPatterns(['orders.>']);
    expect(m.allows('orders.a')).toBe(true);
    expect(m.allows('orders.a.b')).toBe(true);
    expect(m.allows('orders.a.b.c.d.e.f.g')).toBe(true);
    expect(m.allows('orders')).toBe(false);
    expect(m.allows('ordersx.a')).toBe(false);
  });

  it('a bare `>` matches every valid topic', () => {
    const m = compileTopicPatterns(['>']);
    for (const t of ['a', 'a.b', 'x.y.z', 'a.b.c.d.e.f.g.h']) expect(m.allows(t)).toBe(true);
  });

  it('never allows an invalid topic, even with `>`', () => {
    const m = compileTopicPatterns(['>', '*']);
    for (const t of ['', 'a..b', 'a.', '.a', 'a b', 'a.b.c.d.e.f.g.h.i', 'x'.repeat(65), 'a.*', 'a.>']) {
      expect(m.allows(t)).toBe(false);
    }
  });

  it('backtracks between a literal branch and `*`', () => {
    const m = compileTopicPatterns(['a.b.c', '*.b.d', 'a.*.e']);
    expect(m.allows('a.b.d')).toBe(true);
    expect(m.allows('a.x.e')).toBe(true);
    expect(m.allows('a.b.e')).toBe(true);
    expect(m.allows('a.b.f')).toBe(false);
  });

  it('combines exact, `*` and `>` patterns sharing prefixes', () => {
    const m = compileTopicPatterns(['orders', 'orders.*', 'orders.eu.>']);
    expect(m.allows('orders')).toBe(true);
    expect(m.allows('orders.us')).toBe(true);
    expect(m.allows('orders.eu')).toBe(true);
    expect(m.allows('orders.eu.1.2')).toBe(true);
    expect(m.allows('orders.us.1')).toBe(false);
  });

  it('ignores invalid patterns, dedupes, and keeps claim order', () => {
    const m = compileTopicPatterns(['b', 'a..b', 'a', 'b', 'x.>.y', 'c.*']);
    expect(m.patterns).toEqual(['b', 'a', 'c.*']);
    expect(Object.isFrozen(m.patterns)).toBe(true);
    expect(m.allows('a')).toBe(true);
  });

  it('an empty list allows nothing', () => {
    const m = compileTopicPatterns([]);
    expect(m.patterns).toEqual([]);
    expect(m.allows('news')).toBe(false);
  });

  it('stays fast for many patterns', () => {
    const patterns = Array.from({ length: 100 }, (_, i) => (i % 2 ? `t${i}.*.x.>` : `t${i}.a`));
    const m = compileTopicPatterns(patterns);
    const start = performance.now();
    for (let i = 0; i < 100_000; i++) m.allows(`t${i % 100}.a.x.y`);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(m.allows('t1.a.x.y')).toBe(true);
    expect(m.allows('t2.a.x.y')).toBe(false);
  });
});

describe('shared matchers', () => {
  it('tokens with the same claim share one matcher; a different claim gets its own', () => {
    const a = compileTopicPatterns(['news', 'orders.*']);
    expect(compileTopicPatterns(['news', 'orders.*'])).toBe(a);
    const b = compileTopicPatterns(['news', 'orders.>']);
    expect(b).not.toBe(a);
    expect(b.allows('orders.1.2')).toBe(true);
    expect(a.allows('orders.1.2')).toBe(false);
  });

  it('claims that would join to the same text are not confused', () => {
    expect(compileTopicPatterns(['a', 'b']).allows('a')).toBe(true);
    expect(compileTopicPatterns(['a,b']).allows('a')).toBe(false);
    expect(compileTopicPatterns(['a\nb']).allows('a')).toBe(false);
  });

  it('stays bounded: past 1,024 claims the oldest is compiled anew', () => {
    const first = compileTopicPatterns(['bounded-0']);
    for (let i = 1; i <= 1024; i++) compileTopicPatterns([`bounded-${i}`]);
    const again = compileTopicPatterns(['bounded-0']);
    expect(again).not.toBe(first);
    expect(again.allows('bounded-0')).toBe(true);
  });

  it('a very long claim is compiled each time and still correct', () => {
    const long = Array.from({ length: 100 }, (_, i) => `topic-${'x'.repeat(30)}-${i}`);
    const m = compileTopicPatterns(long);
    expect(compileTopicPatterns(long)).not.toBe(m);
    expect(m.allows(long[99] as string)).toBe(true);
  });
});
