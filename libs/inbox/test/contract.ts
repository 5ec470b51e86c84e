/**
 * The InboxStore contract, run against every implementation (memory, JetStream): each
 * implementation's test file calls `inboxContract` with a factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@herald/testkit';
import type { AnyEvent, EventPublisher } from '@herald/events';
import type { InboxChange, InboxMessage, InboxStore } from '../src/index.js';

/** Records every event published, duplicates included. */
export class RecordingPublisher implements EventPublisher {
  readonly events: AnyEvent[] = [];
  publish(event: AnyEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  /** Events after dedupe by id. */
  distinct(): AnyEvent[] {
    const seen = new Map<string, AnyEvent>();
    for (const e of this.events) if (!seen.has(e.id)) seen.set(e.id, e);
    return [...seen.values()];
  }
}

/** A clock the test moves. */
export class TestClock {
  offset = 0;
  readonly now = (): number => Date.now() + this.offset;
}

export interface StoreOptions {
  readonly ttlMs?: number;
  readonly maxPerUser?: number;
  readonly events: EventPublisher;
  readonly clock: TestClock;
}

export interface ContractHarness {
  /** A store; stores made by one harness share their data (several replicas of one store). */
  make(options: StoreOptions): Promise<InboxStore>;
  /** Removes everything stored (between tests). */
  reset(): Promise<void>;
}

let userCounter = 0;
/** A fresh user id per test, with characters that need encoding on NATS. */
const freshUser = (): string => `u.${++userCounter} *>é`;

export function inboxContract(name: string, harness: ContractHarness): void {
  describe(`InboxStore contract: ${name}`, () => {
    const opened: InboxStore[] = [];
    const open = async (o: Partial<StoreOptions> = {}): Promise<{ store: InboxStore; events: RecordingPublisher; clock: TestClock }> => {
      const events = o.events instanceof RecordingPublisher ? o.events : new RecordingPublisher();
      const clock = o.clock ?? new TestClock();
      const store = await harness.make({ ...o, events, clock });
      opened.push(store);
      return { store, events, clock };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await harness.reset();
    });

    it('appends in seq order per user, keeps users apart, hands out pending in order', async () => {
      const { store } = await open();
      const a = freshUser();
      const b = freshUser();
      const r1 = await store.append(a, { data: '{"n":1}' });
      const r2 = await store.append(b, { data: '"b"' });
      const r3 = await store.append(a, { data: '[3]', id: 'third' });
      expect(r3.seq).toBeGreaterThan(r1.seq);
      expect(r1.id).toMatch(/^m_[A-Za-z0-9_-]{22}$/);
      expect(r3).toEqual({ seq: r3.seq, id: 'third', duplicate: false });
      const page = await store.pending(a, 0, 10);
      expect(page.more).toBe(false);
      expect(page.messages.map((m) => [m.seq, m.id, m.data, m.state])).toEqual([[r1.seq, r1.id, '{"n":1}', 'pending'], [r3.seq, 'third', '[3]', 'pending']]);
      expect((await store.pending(b, 0, 10)).messages.map((m) => m.seq)).toEqual([r2.seq]);
      expect((await store.pending(a, r1.seq, 10)).messages.map((m) => m.seq)).toEqual([r3.seq]);
      const first = await store.pending(a, 0, 1);
      expect(first.more).toBe(true);
      expect(first.messages.map((m) => m.seq)).toEqual([r1.seq]);
    });

    it('stores a repeated id once and answers the first seq', async () => {
      const { store } = await open();
      const u = freshUser();
      const first = await store.append(u, { data: '1', id: 'order-1' });
      const again = await store.append(u, { data: '2', id: 'order-1' });
      expect(again).toEqual({ seq: first.seq, id: 'order-1', duplicate: true });
      expect((await store.pending(u, 0, 10)).messages.map((m) => m.data)).toEqual(['1']);
      const other = freshUser();
      expect((await store.append(other, { data: '3', id: 'order-1' })).duplicate).toBe(false);
    });

    it('keeps the newest HERALD_INBOX_MAX messages per user', async () => {
      const { store } = await open({ maxPerUser: 5 });
      const u = freshUser();
      const seqs: number[] = [];
      for (let i = 0; i < 7; i++) seqs.push((await store.append(u, { data: String(i) })).seq);
      expect((await store.pending(u, 0, 100)).messages.map((m) => m.seq)).toEqual(seqs.slice(2));
    });

    it('hides messages past the TTL and past a shorter per-message TTL', async () => {
      const { store, clock } = await open({ ttlMs: 3_600_000 });
      const u = freshUser();
      const long = await store.append(u, { data: '"long"' });
      const short = await store.append(u, { data: '"short"', ttlMs: 60_000 });
      const listed = await store.list(u);
      expect(listed.messages.find((m) => m.seq === short.seq)?.exp).toBeGreaterThan(Date.now());
      clock.offset = 120_000;
      expect((await store.pending(u, 0, 10)).messages.map((m) => m.seq)).toEqual([long.seq]);
      clock.offset = 3_700_000;
      expect((await store.pending(u, 0, 10)).messages).toEqual([]);
      expect((await store.list(u)).messages).toEqual([]);
    });

    it('cumulative delivered then read: one event per transition, pending drops read messages', async () => {
      const { store, events } = await open();
      const u = freshUser();
      const seqs: number[] = [];
      for (let i = 0; i < 4; i++) seqs.push((await store.append(u, { data: String(i), id: `m${i}` })).seq);
      const d = await store.markDelivered(u, seqs[2] as number);
      expect(d.transitions.map((t) => [t.type, t.seq])).toEqual(seqs.slice(0, 3).map((s) => ['message.delivered', s]));
      expect(d.delivered).toBe(seqs[2]);
      expect((await store.markDelivered(u, seqs[1] as number)).transitions).toEqual([]);
      const r = await store.markRead(u, seqs[3] as number);
      expect(r.transitions.map((t) => `${t.type}:${t.seq}`)).toEqual([
        `message.read:${seqs[0]}`, `message.read:${seqs[1]}`, `message.read:${seqs[2]}`, `message.delivered:${seqs[3]}`, `message.read:${seqs[3]}`,
      ]);
      expect((await store.pending(u, 0, 10)).messages).toEqual([]);
      const listing = await store.list(u);
      expect(listing).toMatchObject({ delivered: seqs[3], read: seqs[3] });
      expect(listing.messages.map((m) => m.state)).toEqual(['read', 'read', 'read', 'read']);
      expect(events.events).toHaveLength(8);
      expect(events.distinct()).toHaveLength(8);
      expect(events.events[0]).toMatchObject({ type: 'message.delivered', data: { user: u, channel: `inbox:${u}`, seq: seqs[0] } });
      expect(events.events[0]?.id).toMatch(/^evt_[A-Za-z0-9_-]{22}$/);
    });

    it('seqs read one by one: other messages stay unread; states and pages by state', async () => {
      const { store } = await open();
      const u = freshUser();
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) seqs.push((await store.append(u, { data: String(i) })).seq);
      await store.markDelivered(u, seqs[1] as number);
      const r = await store.markRead(u, { seqs: [seqs[3] as number] });
      expect(r.readSeqs).toEqual([seqs[3]]);
      expect((await store.pending(u, 0, 10)).messages.map((m) => [m.seq, m.state])).toEqual([
        [seqs[0], 'delivered'], [seqs[1], 'delivered'], [seqs[2], 'pending'], [seqs[4], 'pending'],
      ]);
      const p1 = await store.list(u, { state: 'pending', limit: 1 });
      expect(p1.messages.map((m) => m.seq)).toEqual([seqs[2]]);
      expect(p1.next).toBe(seqs[2]);
      const p2 = await store.list(u, { state: 'pending', limit: 1, after: p1.next as number });
      expect(p2.messages.map((m) => m.seq)).toEqual([seqs[4]]);
      expect(p2.next).toBeUndefined();
      expect((await store.list(u, { state: 'read' })).messages.map((m) => m.seq)).toEqual([seqs[3]]);
    });

    it('retracts by id', async () => {
      const { store } = await open();
      const u = freshUser();
      await store.append(u, { data: '1', id: 'keep' });
      await store.append(u, { data: '2', id: 'drop' });
      expect(await store.retract(u, 'drop')).toBe(true);
      expect(await store.retract(u, 'drop')).toBe(false);
      expect(await store.retract(u, 'never')).toBe(false);
      expect((await store.pending(u, 0, 10)).messages.map((m) => m.id)).toEqual(['keep']);
    });

    it('refuses bad input', async () => {
      const { store } = await open();
      await expect(store.append('', { data: '1' })).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.append('a\nb', { data: '1' })).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.append('u', { data: '1', id: 'has space' })).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.pending('u', -1, 10)).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.pending('u', 0, 1001)).rejects.toMatchObject({ code: 'invalid' });
      await expect(store.markRead('u', 0)).rejects.toMatchObject({ code: 'invalid' });
    });

    it('watch: live messages and receipt changes; stored then live with no gap and no duplicate at the seam', async () => {
      const { store } = await open();
      const u = freshUser();
      const early: number[] = [];
      for (let i = 0; i < 6; i++) early.push((await store.append(u, { data: String(i) })).seq);
      // The gateway's join: watch first, then page through pending while appends continue.
      const buffered: InboxMessage[] = [];
      const receipts: InboxChange[] = [];
      let done = false;
      const sent: number[] = [];
      const stop = await store.watch(u, (c) => {
        if (c.kind === 'receipt') receipts.push(c);
        else if (!done) buffered.push(c.message);
        else if (c.message.seq > (sent.at(-1) ?? 0)) sent.push(c.message.seq);
      });
      const appends = (async () => {
        const s: number[] = [];
        for (let i = 0; i < 6; i++) s.push((await store.append(u, { data: `"late${i}"` })).seq);
        return s;
      })();
      let after = 0;
      for (;;) {
        const page = await store.pending(u, after, 2);
        for (const m of page.messages) sent.push(m.seq);
        after = sent.at(-1) ?? after;
        if (!page.more) break;
      }
      const seam = sent.at(-1) ?? 0;
      for (const m of buffered) if (m.seq > seam) sent.push(m.seq);
      done = true;
      const late = await appends;
      await waitUntil(() => sent.at(-1) === late.at(-1));
      expect(sent).toEqual([...early, ...late]);
      await store.markRead(u, late[0] as number);
      await waitUntil(() => receipts.length > 0);
      expect(receipts[0]).toMatchObject({ kind: 'receipt', status: 'read', read: late[0], delivered: late[0] });
      await stop();
    });

    it('watch: the same listener twice is two watches, stopped one by one; a stop called again stops nothing else', async () => {
      const { store } = await open();
      const u = freshUser();
      const heard: number[] = [];
      const listener = (c: InboxChange): void => void (c.kind === 'message' && heard.push(c.message.seq));
      const stopFirst = await store.watch(u, listener);
      const stopSecond = await store.watch(u, listener);
      const one = (await store.append(u, { data: '1' })).seq;
      await waitUntil(() => heard.length === 2);
      expect(heard).toEqual([one, one]);
      await stopFirst();
      await stopFirst(); // again: must not stop the second watch
      const two = (await store.append(u, { data: '2' })).seq;
      await waitUntil(() => heard.includes(two));
      // a marker through a third watch: the stopped one would have heard `two` before it
      const marks: number[] = [];
      const stopMarker = await store.watch(u, (c) => void (c.kind === 'message' && marks.push(c.message.seq)));
      const three = (await store.append(u, { data: '3' })).seq;
      await waitUntil(() => marks.includes(three) && heard.includes(three));
      expect(heard).toEqual([one, one, two, three]);
      await stopSecond();
      await stopMarker();
    });

    it('racing receipts on several replicas: exactly one event per transition after dedupe by id', async () => {
      const events = new RecordingPublisher();
      const clock = new TestClock();
      const replicas = await Promise.all([0, 1, 2].map(() => open({ events, clock })));
      const u = freshUser();
      const seqs: number[] = [];
      for (let i = 0; i < 10; i++) seqs.push((await replicas[0]?.store.append(u, { data: String(i) }))?.seq ?? 0);
      // Every replica acknowledges the same growing marks at once, then reads.
      for (const upTo of [seqs[3], seqs[6], seqs[9]] as number[]) {
        await Promise.all(replicas.map((r) => r.store.markDelivered(u, upTo)));
      }
      await Promise.all(replicas.map((r) => r.store.markRead(u, seqs[9] as number)));
      const distinct = events.distinct();
      expect(distinct.filter((e) => e.type === 'message.delivered').map((e) => (e.data as { seq: number }).seq).sort((a, b) => a - b)).toEqual(seqs);
      expect(distinct.filter((e) => e.type === 'message.read').map((e) => (e.data as { seq: number }).seq).sort((a, b) => a - b)).toEqual(seqs);
      const listing = await replicas[1]?.store.list(u);
      expect(listing?.messages.every((m) => m.state === 'read')).toBe(true);
      console.log(`[${name}] racing receipts: ${events.events.length} events published for ${distinct.length} transitions (${events.events.length - distinct.length} duplicates before dedupe)`);
    });
  });
}

export async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  await waitFor(() => cond(), timeoutMs, 'inbox condition');
}
