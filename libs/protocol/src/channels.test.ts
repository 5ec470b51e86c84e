import { describe, expect, it } from 'vitest';
import { isValidTopic, isValidUserId, parseChannel, utf8ByteLength } from './channels.js';

describe('topic grammar', () => {
  it('accepts 1 to 8 segments of [A-Za-z0-9_-]', () => {
    expect(isValidTopic('news')).toBe(true);
    expect(isValidTopic('orders.eu-west.shop_1')).toBe(true);
    expect(isValidTopic('a.b.c.d.e.f.g.h')).toBe(true);
  });
  it('rejects empty segments, wildcards, too many segments and long names', () => {
    for (const bad of ['', '.', 'a.', '.a', 'a..b', 'a*', 'orders.>', 'a b', 'a.b.c.d.e.f.g.h.i', 'x'.repeat(65), `${'a'.repeat(60)}.`.repeat(4) + 'a', 'é']) {
      expect(isValidTopic(bad), bad).toBe(false);
    }
    expect(isValidTopic(42)).toBe(false);
  });
});

describe('user ids', () => {
  it('accepts any UTF-8 without control characters, including subject metacharacters', () => {
    for (const ok of ['42', 'a.b', '*', '>', 'with space', 'ünïcode', '😀', 'x'.repeat(256)]) expect(isValidUserId(ok), ok).toBe(true);
  });
  it('rejects control characters, lone surrogates and more than 256 bytes', () => {
    for (const bad of ['', 'a\nb', 'a\u0000', '\u007f', '\u0085', '\ud800', 'x'.repeat(257), 'é'.repeat(129)]) expect(isValidUserId(bad), JSON.stringify(bad)).toBe(false);
  });
  it('counts UTF-8 bytes', () => {
    expect(utf8ByteLength('aé😀')).toBe(1 + 2 + 4);
  });
});

describe('parseChannel', () => {
  it('parses topic and user channels', () => {
    expect(parseChannel('topic:news')).toEqual({ kind: 'topic', name: 'news' });
    expect(parseChannel('user:a.b c')).toEqual({ kind: 'user', name: 'a.b c' });
  });
  it('rejects unknown kinds and bad names', () => {
    for (const bad of ['news', 'topic:', 'user:', 'topic:a..b', 'room:x', 7]) expect(parseChannel(bad)).toBeUndefined();
  });
});
