// Subject mapping: both directions, hostile user ids, canaries.
import { describe, expect, it } from 'vitest';
import { BusError } from './errors.js';
import { redactUrl } from './nats-auth.js';
import {
  canaryChannel, channelOfSubject, decodeToken, DEFAULT_SUBJECTS, encodeToken, fnv1a32, inSubject, MAX_PARTITIONS, outSubject, partitionOf, subjectScheme,
} from './subjects.js';

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

describe('partitions', () => {
  const channels = ['topic:news', 'topic:orders.eu-1.new_2', 'user:42', 'user:a.*', 'user:ü😀', ...Array.from({ length: 50 }, (_, i) => `user:u${i}`)];

  it('hashes with FNV-1a (32 bits), the hash of nats-server subject mappings', () => {
    // reference vectors of FNV-1a 32
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('chooses the partition from the name tokens of the subject: the user token, the topic tokens without dots', () => {
    const token = encodeToken('alice');
    expect(partitionOf('user:alice', 7)).toBe(fnv1a32(token) % 7);
    expect(partitionOf('topic:orders.eu', 5)).toBe(fnv1a32('orderseu') % 5);
    expect(partitionOf('topic:news', 1)).toBe(0);
    expect(partitionOf(canaryChannel('node-1'), 3)).toBe(0);
    expect(() => partitionOf('news', 3)).toThrow(BusError);
  });

  it('keeps the names of installs without partitions for one partition, and puts every partition of several under <p>.in.<k> and <p>.out.<k>', () => {
    const one = subjectScheme('herald', 1);
    const three = subjectScheme('herald', 3);
    for (const ch of channels) {
      expect(one.in(ch)).toBe(inSubject(ch));
      expect(one.out(ch)).toBe(outSubject(ch));
      expect(one.locate(ch)).toEqual({ partition: 0, in: inSubject(ch), out: outSubject(ch) });
      const k = three.partitionOf(ch);
      expect(k).toBe(partitionOf(ch, 3));
      const route = three.locate(ch);
      expect(route).toEqual({ partition: k, in: three.in(ch), out: three.out(ch) });
      expect(route.in).toBe(inSubject(ch).replace('herald.in.', `herald.in.${k}.`));
      expect(route.out).toBe(outSubject(ch).replace('herald.out.', `herald.out.${k}.`));
      expect(route.in.startsWith(three.inPrefixOf(k))).toBe(true);
      expect(route.out.startsWith(three.outPrefixOf(k))).toBe(true);
      expect(three.channelOf(route.in)).toBe(ch);
      expect(three.channelOf(route.out)).toBe(ch);
      // the subjects of one partition are not those of several, either way
      expect(three.channelOf(inSubject(ch))).toBeUndefined();
      expect(one.channelOf(route.in)).toBeUndefined();
    }
    // canaries are in partition 0
    expect(three.in(canaryChannel('n1'))).toBe('herald.in.0.canary.n1');
    expect(three.channelOf('herald.out.0.canary.n1')).toBe('canary:n1');
    expect([three.inWildcard, three.outWildcard, three.inPrefixOf(2), three.outPrefixOf(1)]).toEqual(['herald.in.0.>', 'herald.out.0.>', 'herald.in.2.', 'herald.out.1.']);
    expect([one.inPrefixOf(0), one.outPrefixOf(0)]).toEqual(['herald.in.', 'herald.out.']);
    expect(() => three.inPrefixOf(3)).toThrow(BusError);
  });

  it('spreads channels over every partition', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[partitionOf(`user:user-${i}`, 3)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(900);
  });

  it('does not read a channel published under a partition it does not belong to, nor a partition out of range', () => {
    const three = subjectScheme('herald', 3);
    const ch = channels.find((c) => three.partitionOf(c) === 2) as string;
    for (const wrong of ['herald.in.1.', 'herald.in.0.', 'herald.in.3.', 'herald.in.02.', 'herald.in.', 'herald.in.x.', 'herald.in.-1.']) {
      expect(three.channelOf(three.in(ch).replace('herald.in.2.', wrong)), wrong).toBeUndefined();
    }
    expect(three.channelOf(three.out(ch))).toBe(ch);
  });

  it('refuses a partition count out of range', () => {
    for (const n of [0, -1, 1.5, MAX_PARTITIONS + 1, Number.NaN]) expect(() => subjectScheme('herald', n), String(n)).toThrow(BusError);
    expect(subjectScheme('herald', MAX_PARTITIONS).partitions).toBe(MAX_PARTITIONS);
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
