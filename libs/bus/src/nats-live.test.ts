// LiveChannel (NatsBus's per-channel delivery) against a fake history: duplicates, gaps, overflow, failures.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@herald/testkit';
import type { BusMessage } from './bus.js';
import type { RawPage } from './nats-history.js';
import { parseAckSubject } from './nats-subject-range.js';
import { LiveChannel, MAX_REPAIR_BUFFER } from './nats-live.js';

const CH = 'topic:t';
const msg = (seq: number, prev: number): BusMessage => ({ channel: CH, seq, prev, ts: 1, data: String(seq) });

/** A fake store holding a chain of seqs; reads honour since/limit like the real one. */
function store(seqs: number[], opts: { failFirst?: number; complete?: boolean } = {}) {
  let failures = opts.failFirst ?? 0;
  const reads: number[] = [];
  const read = async (since: number, limit: number): Promise<RawPage> => {
    reads.push(since);
    await Promise.resolve();
    if (failures-- > 0) throw new Error('bus down');
    const after = seqs.filter((s) => s > since);
    const page = after.slice(0, limit);
    return {
      messages: page.map((s) => msg(s, seqs[seqs.indexOf(s) - 1] ?? 0)),
      complete: opts.complete ?? true,
      truncated: after.length > limit,
    };
  };
  return { read, reads };
}

function live(read: (since: number, limit: number) => Promise<RawPage>, last = 0) {
  const got: BusMessage[] = [];
  const lc = new LiveChannel(CH, (m) => void got.push(m), (channel, since, limit) => {
    expect(channel).toBe(CH);
    return read(since, limit);
  });
  lc.last = last;
  return { lc, got, seqs: () => got.map((m) => m.seq) };
}

describe('LiveChannel', () => {
  it('delivers in order and drops duplicates and old messages', () => {
    const { lc, seqs } = live(store([]).read, 10);
    lc.accept(msg(9, 5));
    lc.accept(msg(11, 10));
    lc.accept(msg(11, 10));
    lc.accept(msg(12, 11));
    expect(seqs()).toEqual([11, 12]);
  });

  it('fills a gap from history before the live message, buffering newer ones', async () => {
    const s = store([10, 13, 15, 20, 22]);
    const { lc, seqs } = live(s.read, 10);
    lc.accept(msg(20, 15)); // 13 and 15 are missing
    lc.accept(msg(22, 20)); // arrives while repairing
    expect(lc.repairing).toBe(true);
    await waitFor(() => !lc.repairing, 1_000, 'repair');
    expect(seqs()).toEqual([13, 15, 20, 22]);
    expect(s.reads).toEqual([10]);
  });

  it('pages through history when the gap is longer than one read', async () => {
    const chain = Array.from({ length: 2500 }, (_, i) => i + 1);
    const { lc, seqs } = live(store(chain).read, 1);
    lc.accept(msg(2500, 2499));
    await waitFor(() => !lc.repairing, 2_000, 'repair');
    expect(seqs()).toEqual(chain.slice(1));
  });

  it('retries failed reads, then delivers', async () => {
    const s = store([1, 2, 3], { failFirst: 2 });
    const { lc, seqs } = live(s.read, 1);
    lc.accept(msg(3, 2));
    await waitFor(() => seqs().length === 2, 5_000, 'delivery after retries');
    expect(seqs()).toEqual([2, 3]);
    expect(s.reads).toHaveLength(3);
  });

  it('delivers across an evicted gap (complete: false) with prev showing it', async () => {
    const { lc, got } = live(store([7, 8], { complete: false }).read, 2);
    lc.accept(msg(8, 7)); // 3..6 evicted, 7 still held
    await waitFor(() => !lc.repairing, 1_000, 'repair');
    expect(got.map((m) => [m.seq, m.prev])).toEqual([[7, 0], [8, 7]]);
  });

  it('gives up on a gap history cannot fill, after a few retries', async () => {
    const s = store([]); // a replica that never gets the message
    const { lc, seqs } = live(s.read, 2);
    lc.accept(msg(8, 5));
    await waitFor(() => !lc.repairing, 2_000, 'repair gives up');
    expect(seqs()).toEqual([8]);
    expect(s.reads.length).toBe(4);
  });

  it('catches up to the end of history on demand', async () => {
    const { lc, seqs } = live(store([4, 6, 9]).read, 4);
    lc.catchUp();
    await waitFor(() => !lc.repairing, 1_000, 'catch-up');
    expect(seqs()).toEqual([6, 9]);
    lc.accept(msg(9, 6));
    expect(seqs()).toEqual([6, 9]);
  });

  it('bounds the repair buffer and reads the overflow back from history', async () => {
    const chain = Array.from({ length: MAX_REPAIR_BUFFER + 500 }, (_, i) => i + 1);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const s = store(chain);
    const { lc, seqs } = live(async (since, limit) => {
      await gate;
      return s.read(since, limit);
    }, 1);
    lc.accept(msg(3, 2)); // gap: 2 missing
    for (let seq = 4; seq <= chain.length; seq++) lc.accept(msg(seq, seq - 1));
    release();
    await waitFor(() => !lc.repairing, 5_000, 'repair');
    expect(seqs()).toEqual(chain.slice(1));
  });

  it('stops after close', async () => {
    const { lc, seqs } = live(store([1, 2, 3]).read, 1);
    lc.accept(msg(3, 2));
    lc.close();
    await new Promise((r) => setTimeout(r, 20));
    lc.accept(msg(4, 3));
    expect(seqs()).toEqual([]);
  });
});

describe('parseAckSubject', () => {
  it('reads the 2.9 form and the newer one', () => {
    expect(parseAckSubject('$JS.ACK.HERALD.c1.1.42.7.1795276397031424636.3')).toEqual({ seq: 42, storedMs: 1795276397031, pending: 3 });
    expect(parseAckSubject('$JS.ACK.dom.acchash.HERALD.c1.1.42.7.1795276397031424636.0.xyz')).toEqual({ seq: 42, storedMs: 1795276397031, pending: 0 });
    expect(parseAckSubject('_INBOX.abc')).toBeUndefined();
    expect(parseAckSubject('$JS.ACK.a.b')).toBeUndefined();
  });
});
