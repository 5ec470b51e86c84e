// Subject mapping: both directions, hostile user ids, canaries.
import { describe, expect, it } from 'vitest';
import { BusError } from './errors.js';
import { redactUrl } from './nats-auth.js';
import { canaryChannel, channelOfSubject, decodeToken, DEFAULT_SUBJECTS, encodeToken, inSubject, outSubject, subjectScheme } from './subjects.js';

const TOKEN = /^[A-Za-z0-9_-]+$/;

describe('subjects', () => {
  it('maps topics verbatim under herald.in and herald.out', () => {
    expect(inSubject('topic:news')).toBe('herald.in.topic.news');
    expect(outSubject('topic:orders.eu-1.new_2')).toBe('herald.out.topic.orders.eu-1.new_2');
    expect(channelOfSubject('herald.in.topic.orders.eu-1.new_2')).toBe('topic:orders.eu-1.new_2');
    expect(channelOfSubject('herald.out.topic.news')).toBe('topic:news');
  });

  it('maps any user id to one safe token and back', () => {
    const ids = ['42', 'a.b', '*', '>', 'a b', 'a.*.>', ' ', 'ü😀', 'x'.repeat(256), '..', 'user:7', '=', 'a\\b"c'];
    for (const id of ids) {
      const s = inSubject(`user:${id}`);
      const token = s.slice('herald.in.user.'.length);
      expect(s.startsWith('herald.in.user.')).toBe(true);
      expect(token).toMatch(TOKEN);
      expect(channelOfSubject(s)).toBe(`user:${id}`);
      expect(channelOfSubject(outSubject(`user:${id}`))).toBe(`user:${id}`);
    }
    expect(inSubject('user:a.b')).not.toBe(inSubject('user:a*b'));
    expect(inSubject('user:42')).toBe(`herald.in.user.${Buffer.from('42').toString('base64url')}`);
  });

  it('encodes base64url without padding and rejects non-canonical tokens', () => {
    expect(encodeToken('a')).toBe('YQ');
    expect(decodeToken('YQ')).toBe('a');
    expect(decodeToken('YR')).toBeUndefined(); // stray bits
    expect(decodeToken('YQ==')).toBeUndefined();
    expect(decodeToken('a.b')).toBeUndefined();
    expect(decodeToken('')).toBeUndefined();
  });

  it('maps canaries, encoding unsafe node ids', () => {
    expect(inSubject(canaryChannel('node-1'))).toBe('herald.in.canary.node-1');
    expect(outSubject(canaryChannel('node-1'))).toBe('herald.out.canary.node-1');
    const odd = outSubject(canaryChannel('pod 7.*'));
    expect(odd).toMatch(/^herald\.out\.canary\.~[A-Za-z0-9_-]+$/);
    expect(channelOfSubject(odd)).toBe('canary:pod 7.*');
    expect(channelOfSubject('herald.in.canary.node-1')).toBe('canary:node-1');
  });

  it('rejects invalid channels and foreign subjects', () => {
    for (const ch of ['news', 'topic:', 'topic:a..b', 'topic:a.*', 'topic:>', 'user:', 'user:a\nb', 'queue:x']) {
      expect(() => inSubject(ch)).toThrow(BusError);
    }
    expect(() => inSubject(canaryChannel(''))).toThrow(BusError);
    for (const s of ['herald.in', 'herald.in.topic', 'herald.in.queue.x', 'other.in.topic.a', 'herald.in.user.%%', 'herald.in.topic.a..b', 'herald.ctl.presence']) {
      expect(channelOfSubject(s)).toBeUndefined();
    }
  });
});

describe('subjectScheme', () => {
  it('puts every subject of an install under its prefix', () => {
    const s = subjectScheme('acme.herald');
    expect(s.in('topic:news')).toBe('acme.herald.in.topic.news');
    expect(s.out('user:42')).toBe(`acme.herald.out.user.${Buffer.from('42').toString('base64url')}`);
    expect(s.out(canaryChannel('n1'))).toBe('acme.herald.out.canary.n1');
    expect([s.inWildcard, s.outWildcard, s.ctlDisconnect, s.ctlPresence]).toEqual([
      'acme.herald.in.>', 'acme.herald.out.>', 'acme.herald.ctl.disconnect', 'acme.herald.ctl.presence',
    ]);
    expect(s.channelOf('acme.herald.out.topic.news')).toBe('topic:news');
    expect(s.channelOf('herald.out.topic.news')).toBeUndefined();
  });

  it('defaults to the subjects of installs without a prefix', () => {
    expect(subjectScheme().in('topic:a.b')).toBe(inSubject('topic:a.b'));
    expect(DEFAULT_SUBJECTS.ctlPresence).toBe('herald.ctl.presence');
  });

  it('refuses a prefix that is not plain subject tokens', () => {
    for (const p of ['', 'a.', '.a', 'a..b', 'a.*', 'a.>', 'a b', 'a.b.c.d.e', 'x'.repeat(65)]) {
      expect(() => subjectScheme(p), p).toThrow(BusError);
    }
  });
});

describe('redactUrl', () => {
  it('hides credentials in a NATS URL, and nothing else', () => {
    expect(redactUrl('nats://user:p@ss@nats.svc:4222')).toBe('nats://***@nats.svc:4222');
    expect(redactUrl('tls://token@nats.svc')).toBe('tls://***@nats.svc');
    expect(redactUrl('user:pw@127.0.0.1:4222')).toBe('***@127.0.0.1:4222');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });
});
