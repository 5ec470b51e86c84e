// Unit tests of SSE event ids and the request's pure choices: encoding, untrusted parsing, topics, resume precedence.
import { describe, expect, it } from 'vitest';
import { encodeEventId, eventIdKey, MAX_EVENT_ID_CHARS, parseEventId } from './event-id.js';
import { forbiddenTopic, parseTopics, resumeIdOf } from './request.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

describe('event ids', () => {
  it('encode the epoch and every channel above seq 0, in stream order, as ASCII; parse back', () => {
    const channels = ['user:ünï "q"', 'topic:news', 'topic:idle'];
    const id = encodeEventId('ep0ch', channels.map(eventIdKey), [7, 120, 0]);
    expect(id).toMatch(/^ep0ch~[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(id.split('~')[1] ?? '', 'base64url').toString())).toEqual({ 'user:ünï "q"': 7, 'topic:news': 120 });
    expect(parseEventId(id)).toEqual({ kind: 'valid', position: { epoch: 'ep0ch', seqs: new Map([['user:ünï "q"', 7], ['topic:news', 120]]) } });
    expect(encodeEventId('e', [eventIdKey('topic:a')], [0])).toBe(`e~${b64('{}')}`);
  });

  it('treat anything else as malformed, and an empty value as absent', () => {
    expect(parseEventId('')).toEqual({ kind: 'absent' });
    const bad = [
      'no-separator', `~${b64('{}')}`, 'e~not base64!', `e~${b64('[1]')}`, `e~${b64('null')}`, `e~${b64('{"a":-1}')}`,
      `e~${b64('{"a":1.5}')}`, `e~${b64('{"a":"1"}')}`, `e~${b64('{"a":1e300}')}`, `e~${b64('{')}`, `${'e'.repeat(200)}~${b64('{}')}`,
      'e~' + 'A'.repeat(MAX_EVENT_ID_CHARS),
    ];
    for (const raw of bad) expect(parseEventId(raw).kind, raw.slice(0, 30)).toBe('malformed');
    expect(parseEventId(`e~${Buffer.from('{"a":1}').toString('base64')}`)).toMatchObject({ kind: 'valid' }); // padded: tolerated
    // The epoch itself may hold the separator: the last one splits.
    expect(parseEventId(`a~b~${b64('{"x":1}')}`)).toMatchObject({ kind: 'valid', position: { epoch: 'a~b' } });
  });
});

describe('SSE request', () => {
  it('reads distinct topics in order; empty is none; invalid names and more than the maximum are 400s', () => {
    expect(parseTopics('topics=news,orders.eu,news')).toEqual({ ok: true, topics: ['news', 'orders.eu'] });
    expect(parseTopics('topics=a&topics=b,c&token=x')).toEqual({ ok: true, topics: ['a', 'b', 'c'] });
    expect(parseTopics('topics=')).toEqual({ ok: true, topics: [] });
    expect(parseTopics('')).toEqual({ ok: true, topics: [] });
    expect(parseTopics('topics=a,,b')).toMatchObject({ ok: false, refusal: { status: 400, code: 'invalid_channel' } });
    expect(parseTopics('topics=a%20b')).toMatchObject({ ok: false, refusal: { status: 400, code: 'invalid_channel', message: 'invalid topic name: a b' } });
    expect(parseTopics('topics=a,b,c', 2)).toMatchObject({ ok: false, refusal: { status: 400, code: 'invalid_query' } });
    expect(forbiddenTopic(['news', 'admin'], (t) => t === 'news')).toMatchObject({ status: 403, code: 'forbidden', message: expect.stringContaining('admin') });
    expect(forbiddenTopic(['news'], () => true)).toBeUndefined();
  });

  it('prefers the Last-Event-ID header over ?lastEventId=', () => {
    const header = `h~${b64('{}')}`;
    const query = `q~${b64('{}')}`;
    expect(resumeIdOf({ lastEventId: header, query: `lastEventId=${query}` })).toMatchObject({ kind: 'valid', position: { epoch: 'h' } });
    expect(resumeIdOf({ lastEventId: '', query: `lastEventId=${query}` })).toMatchObject({ kind: 'valid', position: { epoch: 'q' } });
    expect(resumeIdOf({ lastEventId: '', query: 'topics=a' })).toEqual({ kind: 'absent' });
  });
});
