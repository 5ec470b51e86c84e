// GET /v1/presence?topic=…&members=true: query validation and the member page merged from every node's list.
import { describe, expect, it } from 'vitest';
import { memberPage } from './routes.js';
import { parsePresenceQuery } from './validate.js';

const q = (s: string) => parsePresenceQuery(new URLSearchParams(s));

describe('presence members query', () => {
  it('accepts members=true with a topic, limit and cursor; refuses them elsewhere', () => {
    expect(q('topic=room.1&members=true')).toEqual({ ok: true, value: { topic: 'room.1', members: { limit: 100 } } });
    expect(q('topic=room.1&members=true&limit=5&cursor=b')).toEqual({ ok: true, value: { topic: 'room.1', members: { limit: 5, cursor: 'b' } } });
    expect(q('topic=room.1&members=false')).toEqual({ ok: true, value: { topic: 'room.1' } });
    expect(q('user=u&members=true')).toMatchObject({ ok: false, code: 'invalid_query' });
    expect(q('topic=room.1&limit=5')).toMatchObject({ ok: false, code: 'invalid_query' });
    expect(q('topic=room.1&members=true&limit=0')).toMatchObject({ ok: false, code: 'invalid_query' });
    expect(q('topic=room.1&members=true&limit=1001')).toMatchObject({ ok: false, code: 'invalid_query' });
    expect(q('topic=room.1&members=yes')).toMatchObject({ ok: false, code: 'invalid_query' });
  });
});

describe('memberPage', () => {
  const states = [
    { node: 'b', topic: 't', every: 1000, members: [{ user: 'u2', info: { from: 'b' } }, { user: 'u3' }] },
    { node: 'a', topic: 't', every: 1000, members: [{ user: 'u2', info: { from: 'a' } }, { user: 'u1' }] },
  ];
  it('lists each user once, sorted, with the lowest node id\'s info, and pages with a cursor', () => {
    expect(memberPage(states, { limit: 2 })).toEqual({ count: 3, members: [{ user: 'u1' }, { user: 'u2', info: { from: 'a' } }], next: 'u2' });
    expect(memberPage(states, { limit: 2, cursor: 'u2' })).toEqual({ count: 3, members: [{ user: 'u3' }] });
    expect(memberPage(states, { limit: 2, cursor: 'u9' })).toEqual({ count: 3, members: [] });
    expect(memberPage([], { limit: 10 })).toEqual({ count: 0, members: [] });
  });
});
