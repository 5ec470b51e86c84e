import { describe, expect, it } from 'vitest';
import { MemoryBus } from '@herald/bus';
import { InboxError, MemoryInboxStore, type InboxStore } from '@herald/inbox';
import { parseBatch, parsePublish } from '../publish/validate.js';
import { PublishFailure } from '../publish/publish-all.js';
import { publishWithInbox } from './publish.js';
import { busFailureResult } from '../http/bus-failure.js';
import { decodeSegment } from './routes.js';

const limits = { maxDataBytes: 1024, maxTargets: 10, maxBatch: 10 };

describe('the inbox field of a publish', () => {
  it('becomes an inbox option on user targets', () => {
    expect(parsePublish({ user: 'a', inbox: true, data: 1 }, limits)).toEqual({ ok: true, value: { channels: ['user:a'], data: '1', inbox: {} } });
    expect(parsePublish({ users: ['a', 'b'], inbox: { ttl: 30 }, data: 1, id: 'x' }, limits)).toMatchObject({ ok: true, value: { id: 'x', inbox: { ttlMs: 30_000 } } });
    expect(parsePublish({ user: 'a', inbox: {}, data: 1 }, limits)).toMatchObject({ ok: true, value: { inbox: {} } });
  });

  it('is refused on topics and when malformed', () => {
    expect(parsePublish({ topic: 'news', inbox: true, data: 1 }, limits)).toMatchObject({ ok: false, code: 'invalid_target' });
    for (const inbox of [false, null, 'yes', { ttl: 0 }, { ttl: -1 }, { ttl: 2.5 }, { ttl: 400 * 86_400 }, { other: 1 }]) {
      expect(parsePublish({ user: 'a', inbox, data: 1 }, limits)).toMatchObject({ ok: false, code: 'invalid_body' });
    }
    expect(parseBatch({ messages: [{ user: 'a', data: 1 }, { topics: ['t'], inbox: true, data: 2 }] }, limits)).toMatchObject({ ok: false, code: 'invalid_target', index: 1 });
  });
});

describe('publishWithInbox', () => {
  it('appends inbox commands and publishes the others, results in command order', async () => {
    const bus = new MemoryBus();
    const store = new MemoryInboxStore();
    const batch = parseBatch({ messages: [{ topic: 't', data: 1 }, { users: ['a', 'b'], inbox: true, data: 2, id: 'k' }, { user: 'a', data: 3 }] }, limits);
    if (!batch.ok) throw new Error(batch.message);
    const out = await publishWithInbox(bus, () => Promise.resolve(store), batch.value, 4);
    expect(out.map((g) => g.map((r) => r.channel))).toEqual([['topic:t'], ['inbox:a', 'inbox:b'], ['user:a']]);
    expect(out[1]?.[0]).toMatchObject({ id: 'k', duplicate: false });
    expect((await store.pending('b', 0, 10)).messages.map((m) => m.data)).toEqual(['2']);
    await bus.close();
  });

  it('a store failure is a PublishFailure counting what was stored, with a bus timeout as cause (the append may have been stored)', async () => {
    const bus = new MemoryBus();
    const failing = { append: () => Promise.reject(new InboxError('unavailable', 'down')) } as unknown as InboxStore;
    const batch = parseBatch({ messages: [{ topic: 't', data: 1 }, { user: 'a', inbox: true, data: 2 }] }, limits);
    if (!batch.ok) throw new Error(batch.message);
    const err = await publishWithInbox(bus, () => Promise.resolve(failing), batch.value, 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishFailure);
    expect(err).toMatchObject({ stored: 1, total: 2, cause: { name: 'BusError', code: 'timeout' } });
    const answer = busFailureResult((err as PublishFailure).cause, { stored: 0, total: 1, allHaveIds: true });
    expect(answer.status).toBe(503);
    expect(JSON.stringify(answer.body)).toContain('may or may not be stored');
    expect(JSON.stringify(answer.body)).not.toContain('nothing was stored');
    await bus.close();
  });
});

describe('path segments', () => {
  it('are URL-decoded; bad escapes and empty are refused', () => {
    expect(decodeSegment('a%20b%2Fc')).toBe('a b/c');
    expect(decodeSegment('%ZZ')).toBeUndefined();
    expect(decodeSegment('')).toBeUndefined();
  });
});
