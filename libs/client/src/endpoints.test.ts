import { describe, expect, it } from 'vitest';
import { endpoints } from './endpoints.js';
import { DELIVER, DUPLICATE, GAP, Positions } from './positions.js';
import { decodeBase64Url } from './encoding.js';
import { eventId } from './sse-kit.js';

describe('endpoints', () => {
  it('derives /v1/ws and /v1/sse from http(s) and ws(s) bases, with a path prefix or an endpoint already given', () => {
    expect(endpoints('http://127.0.0.1:8080')).toEqual({ ws: 'ws://127.0.0.1:8080/v1/ws', sse: 'http://127.0.0.1:8080/v1/sse' });
    expect(endpoints('https://push.example.com/herald/')).toEqual({ ws: 'wss://push.example.com/herald/v1/ws', sse: 'https://push.example.com/herald/v1/sse' });
    expect(endpoints('wss://x.example/v1/ws').sse).toBe('https://x.example/v1/sse');
    // A ws:// base stays plain (it once became wss:// because `ws:` ends in `s:` too).
    expect(endpoints('ws://127.0.0.1:8080')).toEqual({ ws: 'ws://127.0.0.1:8080/v1/ws', sse: 'http://127.0.0.1:8080/v1/sse' });
    expect(endpoints('ws://push.example.com/herald/v1/ws')).toEqual({ ws: 'ws://push.example.com/herald/v1/ws', sse: 'http://push.example.com/herald/v1/sse' });
  });
});

describe('Positions', () => {
  it('deliver / duplicate / gap', () => {
    const p = new Positions();
    expect(p.check('topic:a', 5, 3)).toBe(DELIVER); // nothing held yet
    p.set('topic:a', 5);
    expect(p.check('topic:a', 5, 3)).toBe(DUPLICATE);
    expect(p.check('topic:a', 4, 0)).toBe(DUPLICATE);
    expect(p.check('topic:a', 9, 5)).toBe(DELIVER);
    expect(p.check('topic:a', 9, 7)).toBe(GAP);
  });
  it('builds since maps and the SSE event id `<epoch>~<b64url(JSON)>`', () => {
    const p = new Positions();
    expect(eventId(p)).toBeUndefined();
    p.era = 'E1';
    p.set('topic:a', 5);
    p.set('user:ü', 7);
    expect(p.sinceOf(['topic:a', 'topic:b'])).toEqual({ 'topic:a': 5 });
    expect(p.sinceOf(['topic:b'])).toBeUndefined();
    const [epoch, b64] = (eventId(p) as string).split('~');
    expect(epoch).toBe('E1');
    expect(JSON.parse(decodeBase64Url(b64 as string))).toEqual({ 'topic:a': 5, 'user:ü': 7 });
  });
});
