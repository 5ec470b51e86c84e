// Unit tests of publish and batch validation: every rule, every error code.
import { describe, expect, it } from 'vitest';
import type { Check } from '../http/result.js';
import { preview } from '../http/input.js';
import { parseBatch, parseId, parsePublish, parseWithSchema, type PublishCommand } from './validate.js';

const limits = { maxDataBytes: 100, maxTargets: 3, maxBatch: 2 };

function value<T>(c: Check<T>): T {
  if (!c.ok) throw new Error(`expected ok, got ${c.code}: ${c.message}`);
  return c.value;
}

function code<T>(c: Check<T>): string {
  return c.ok ? 'ok' : c.code;
}

describe('parsePublish', () => {
  it('maps each target kind to channels', () => {
    expect(value(parsePublish({ topic: 'news', data: 1 }, limits)).channels).toEqual(['topic:news']);
    expect(value(parsePublish({ topics: ['a', 'b.c'], data: 1 }, limits)).channels).toEqual(['topic:a', 'topic:b.c']);
    expect(value(parsePublish({ user: '42', data: 1 }, limits)).channels).toEqual(['user:42']);
    expect(value(parsePublish({ users: ['a.b', 'x y', '*>'], data: 1 }, limits)).channels).toEqual(['user:a.b', 'user:x y', 'user:*>']);
  });

  it('deduplicates targets, keeping the first order', () => {
    expect(value(parsePublish({ topics: ['b', 'a', 'b'], data: 1 }, limits)).channels).toEqual(['topic:b', 'topic:a']);
  });

  it('stores data as its JSON text, null and scalars included', () => {
    const cases: [unknown, string][] = [[null, 'null'], [0, '0'], ['x', '"x"'], [false, 'false'], [{ b: [1, { c: 'é' }] }, '{"b":[1,{"c":"é"}]}'], [[], '[]']];
    for (const [data, text] of cases) expect(value(parsePublish({ topic: 't', data }, limits)).data).toBe(text);
  });

  it('keeps an id', () => {
    const cmd: PublishCommand = value(parsePublish({ topic: 't', data: 1, id: 'order-1:x' }, limits));
    expect(cmd.id).toBe('order-1:x');
    expect('id' in value(parsePublish({ topic: 't', data: 1 }, limits))).toBe(false);
  });

  it.each([
    ['an array', [], 'invalid_body'],
    ['null', null, 'invalid_body'],
    ['a string', 'x', 'invalid_body'],
    ['no target', { data: 1 }, 'invalid_body'],
    ['two targets', { topic: 'a', user: 'b', data: 1 }, 'invalid_body'],
    ['no data', { topic: 'a' }, 'invalid_body'],
    ['an unknown field', { topic: 'a', data: 1, ttl: 5 }, 'invalid_body'],
    ['a bad topic', { topic: 'a b', data: 1 }, 'invalid_target'],
    ['a channel as topic', { topic: 'topic:a', data: 1 }, 'invalid_target'],
    ['an empty topic', { topic: '', data: 1 }, 'invalid_target'],
    ['9 segments', { topic: 'a.b.c.d.e.f.g.h.i', data: 1 }, 'invalid_target'],
    ['a numeric topic', { topic: 5, data: 1 }, 'invalid_target'],
    ['topics not an array', { topics: 'a', data: 1 }, 'invalid_target'],
    ['empty topics', { topics: [], data: 1 }, 'invalid_target'],
    ['too many topics', { topics: ['a', 'b', 'c', 'd'], data: 1 }, 'invalid_target'],
    ['a bad topic in topics', { topics: ['a', 'b..c'], data: 1 }, 'invalid_target'],
    ['an empty user', { user: '', data: 1 }, 'invalid_target'],
    ['a control char in user', { user: 'a\nb', data: 1 }, 'invalid_target'],
    ['a user of 257 bytes', { user: 'u'.repeat(257), data: 1 }, 'invalid_target'],
    ['a numeric user', { user: 42, data: 1 }, 'invalid_target'],
    ['a null in users', { users: ['a', null], data: 1 }, 'invalid_target'],
    ['an empty id', { topic: 'a', data: 1, id: '' }, 'invalid_id'],
    ['a 65-char id', { topic: 'a', data: 1, id: 'i'.repeat(65) }, 'invalid_id'],
    ['an id with a space', { topic: 'a', data: 1, id: 'a b' }, 'invalid_id'],
    ['a non-ASCII id', { topic: 'a', data: 1, id: 'é' }, 'invalid_id'],
    ['a numeric id', { topic: 'a', data: 1, id: 7 }, 'invalid_id'],
    ['a null id', { topic: 'a', data: 1, id: null }, 'invalid_id'],
    ['data over the limit', { topic: 'a', data: 'x'.repeat(99) }, 'data_too_large'],
  ])('refuses %s', (_name, body, expected) => {
    expect(code(parsePublish(body, limits))).toBe(expected);
  });

  it('counts data in UTF-8 bytes of its JSON text', () => {
    expect(code(parsePublish({ topic: 'a', data: 'x'.repeat(98) }, limits))).toBe('ok'); // 100 bytes with quotes
    expect(code(parsePublish({ topic: 'a', data: 'é'.repeat(49) }, limits))).toBe('ok'); // 98 + 2
    expect(code(parsePublish({ topic: 'a', data: 'é'.repeat(50) }, limits))).toBe('data_too_large');
  });

  it('refuses data nested too deeply to encode, and never throws on deep values', () => {
    const deep: unknown = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(code(parsePublish({ topic: 'a', data: deep }, { ...limits, maxDataBytes: 1e6 }))).toBe('invalid_data');
    expect(code(parsePublish({ topics: deep, data: 1 }, limits))).toBe('invalid_target');
    expect(code(parsePublish({ topics: [deep], data: 1 }, limits))).toBe('invalid_target');
    expect(code(parsePublish({ topic: 'a', data: 1, id: deep }, limits))).toBe('invalid_id');
  });

  it('names the bad target in the message', () => {
    const r = parsePublish({ topics: ['ok', 'bad name'], data: 1 }, limits);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('topics[1] "bad name"');
  });

  it('accepts ids of 1 and 64 visible ASCII characters', () => {
    expect(value(parseId('!'))).toBe('!');
    expect(value(parseId('~'.repeat(64)))).toBe('~'.repeat(64));
    expect(value(parseId(undefined))).toBeUndefined();
  });
});

describe('parseBatch', () => {
  it('validates every message', () => {
    const cmds = value(parseBatch({ messages: [{ topic: 'a', data: 1 }, { users: ['1', '2'], data: null, id: 'x' }] }, limits));
    expect(cmds.map((c) => c.channels)).toEqual([['topic:a'], ['user:1', 'user:2']]);
  });

  it.each([
    ['no messages', {}, 'invalid_body'],
    ['messages not an array', { messages: {} }, 'invalid_body'],
    ['empty messages', { messages: [] }, 'invalid_body'],
    ['too many messages', { messages: [{ topic: 'a', data: 1 }, { topic: 'a', data: 1 }, { topic: 'a', data: 1 }] }, 'invalid_body'],
    ['an unknown field', { messages: [{ topic: 'a', data: 1 }], x: 1 }, 'invalid_body'],
    ['an array body', [{ topic: 'a', data: 1 }], 'invalid_body'],
  ])('refuses %s', (_name, body, expected) => {
    expect(code(parseBatch(body, limits))).toBe(expected);
  });

  it('reports the index of the first bad message, with its own code', () => {
    const r = parseBatch({ messages: [{ topic: 'a', data: 1 }, { topic: 'a', data: 1, id: '' }] }, limits);
    expect(r).toMatchObject({ ok: false, code: 'invalid_id', index: 1 });
    if (!r.ok) expect(r.message).toMatch(/^messages\[1\]: /);
    expect(parseBatch({ messages: [{ topic: 'a', data: 'x'.repeat(200) }] }, limits)).toMatchObject({ ok: false, code: 'data_too_large', index: 0 });
  });
});

describe('preview', () => {
  it('quotes and truncates client values', () => {
    expect(preview('a')).toBe('"a"');
    expect(preview(undefined)).toBe('undefined');
    expect(preview('x'.repeat(500)).length).toBeLessThan(100);
  });
});

describe('the common-body path of parsePublish', () => {
  const long = 'é'.repeat(40);
  const bodies: Record<string, unknown>[] = [
    { user: 'u1', data: { a: 1 } }, { topic: 'news.eu', data: null }, { user: 'u1', data: 'x', id: 'order-1' }, { data: 1, user: 'x y' },
    { user: '', data: 1 }, { user: 'a\u0001b', data: 1 }, { user: 'x'.repeat(257), data: 1 }, { user: 7, data: 1 }, { user: 'u', id: 'a b', data: 1 },
    { user: 'u', id: '', data: 1 }, { user: 'u', id: 5, data: 1 }, { user: 'u', id: 'x'.repeat(65), data: 1 }, { user: 'u' }, { user: 'u', data: long },
    { user: 'u', data: 'x'.repeat(99) }, { topic: 'a..b', data: 1 }, { topic: 'a'.repeat(201), data: 1 }, { topic: 'a', user: 'b', data: 1 },
    { user: 'u', data: 1, inbox: true }, { user: 'u', data: 1, extra: 1 }, { users: ['a'], data: 1 }, JSON.parse('{"__proto__":1,"user":"u","data":1}') as Record<string, unknown>,
  ];

  it.each(bodies.map((b) => [JSON.stringify(b).slice(0, 60), b] as const))('answers %s exactly as the schema path', (_name, body) => {
    expect(parsePublish(body, limits)).toEqual(parseWithSchema(body, limits));
  });
});
