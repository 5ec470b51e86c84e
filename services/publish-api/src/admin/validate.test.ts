// Unit tests of the admin routes' validation: disconnect body, presence and history queries.
import { describe, expect, it } from 'vitest';
import { parseDisconnect, parseHistoryQuery, parsePresenceQuery } from './validate.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('parseDisconnect', () => {
  it('defaults code to 4003 and reason to empty', () => {
    expect(parseDisconnect({ user: '42' })).toEqual({ ok: true, value: { user: '42', code: 4003, reason: '' } });
  });

  it.each([1000, 1008, 4001, 4003, 4009, 4029])('accepts code %i', (code) => {
    expect(parseDisconnect({ user: '42', code, reason: 'bye' })).toMatchObject({ ok: true, value: { code } });
  });

  it('accepts a reason of exactly 123 bytes', () => {
    expect(parseDisconnect({ user: 'u', reason: 'é'.repeat(61) + 'x' })).toMatchObject({ ok: true });
  });

  it.each([
    ['not an object', [], 'invalid_body'],
    ['no user', { code: 4003 }, 'invalid_target'],
    ['a bad user', { user: '' }, 'invalid_target'],
    ['code 1011', { user: 'u', code: 1011 }, 'invalid_body'],
    ['code 4008', { user: 'u', code: 4008 }, 'invalid_body'],
    ['a string code', { user: 'u', code: '4003' }, 'invalid_body'],
    ['a 124-byte reason', { user: 'u', reason: 'é'.repeat(62) }, 'invalid_body'],
    ['a numeric reason', { user: 'u', reason: 5 }, 'invalid_body'],
    ['an unknown field', { user: 'u', all: true }, 'invalid_body'],
  ])('refuses %s', (_name, body, code) => {
    expect(parseDisconnect(body)).toMatchObject({ ok: false, code });
  });
});

describe('parsePresenceQuery', () => {
  it('reads user or topic', () => {
    expect(parsePresenceQuery(q('user=42'))).toEqual({ ok: true, value: { user: '42' } });
    expect(parsePresenceQuery(q('user=a%20b.%2A'))).toEqual({ ok: true, value: { user: 'a b.*' } });
    expect(parsePresenceQuery(q('topic=news.eu'))).toEqual({ ok: true, value: { topic: 'news.eu' } });
  });

  it.each(['', 'user=1&topic=a', 'user=', 'topic=a%20b', 'user=1&user=2', 'user=1&x=2', 'user=%0A'])('refuses ?%s', (s) => {
    expect(parsePresenceQuery(q(s))).toMatchObject({ ok: false, code: 'invalid_query' });
  });
});

describe('parseHistoryQuery', () => {
  it('defaults since to 0 and limit to 100', () => {
    expect(parseHistoryQuery(q('ch=topic:news'))).toEqual({ ok: true, value: { channel: 'topic:news', since: 0, limit: 100 } });
  });

  it('reads since and limit', () => {
    expect(parseHistoryQuery(q('ch=user%3A42&since=120&limit=1000'))).toEqual({ ok: true, value: { channel: 'user:42', since: 120, limit: 1000 } });
  });

  it.each([
    '', 'since=1', 'ch=news', 'ch=topic:a%20b', 'ch=user:', 'ch=topic:a&since=-1', 'ch=topic:a&since=1.5', 'ch=topic:a&since=01',
    'ch=topic:a&since=x', 'ch=topic:a&since=99999999999999999', 'ch=topic:a&limit=0', 'ch=topic:a&limit=1001', 'ch=topic:a&limit=',
    'ch=topic:a&ch=topic:b', 'ch=topic:a&epoch=x',
  ])('refuses ?%s', (s) => {
    expect(parseHistoryQuery(q(s))).toMatchObject({ ok: false, code: 'invalid_query' });
  });
});
