import { describe, expect, it } from 'vitest';
import { applyReceipt, checkTarget, decodeReceipts, EMPTY_RECEIPTS, encodeReceipts, receiptRange, stateOf } from './receipts.js';

const held = [1, 4, 9, 12].map((seq) => ({ seq, id: `m${seq}` }));

describe('receipt state machine', () => {
  it('a cumulative delivered mark stops at the newest held message and reports each message once', () => {
    const { next, transitions } = applyReceipt(EMPTY_RECEIPTS, 'delivered', 10, held);
    expect(next).toMatchObject({ d: 9, r: 0 });
    expect(transitions).toEqual([
      { type: 'message.delivered', seq: 1, id: 'm1' }, { type: 'message.delivered', seq: 4, id: 'm4' }, { type: 'message.delivered', seq: 9, id: 'm9' },
    ]);
    expect(applyReceipt(next ?? EMPTY_RECEIPTS, 'delivered', 9, held)).toEqual({ next: undefined, transitions: [] });
  });

  it('read implies delivered: a pending message read gives delivered then read', () => {
    const start = { d: 4, r: 0, dx: [], rx: [] };
    const { next, transitions } = applyReceipt(start, 'read', 9, held);
    expect(next).toMatchObject({ d: 9, r: 9 });
    expect(transitions.map((t) => `${t.type}:${t.seq}`)).toEqual(['message.read:1', 'message.read:4', 'message.delivered:9', 'message.read:9']);
  });

  it('seqs read one by one stay above the mark and fold into it later', () => {
    const a = applyReceipt(EMPTY_RECEIPTS, 'read', { seqs: [9] }, held);
    expect(a.next).toMatchObject({ d: 0, r: 0, rx: [9] });
    expect(stateOf(a.next ?? EMPTY_RECEIPTS, 9)).toBe('read');
    expect(stateOf(a.next ?? EMPTY_RECEIPTS, 4)).toBe('pending');
    const b = applyReceipt(a.next ?? EMPTY_RECEIPTS, 'read', 12, held);
    expect(b.next).toMatchObject({ d: 12, r: 12, rx: [] });
    expect(b.transitions.map((t) => `${t.type}:${t.seq}`)).toEqual([
      'message.delivered:1', 'message.read:1', 'message.delivered:4', 'message.read:4', 'message.delivered:12', 'message.read:12',
    ]);
  });

  it('seqs that are not held change nothing', () => {
    expect(applyReceipt(EMPTY_RECEIPTS, 'delivered', { seqs: [2, 3] }, held)).toEqual({ next: undefined, transitions: [] });
  });

  it('ranges: nothing to read below the mark', () => {
    expect(receiptRange({ d: 9, r: 4, dx: [], rx: [] }, 'delivered', 9)).toBeUndefined();
    expect(receiptRange({ d: 9, r: 4, dx: [], rx: [] }, 'read', 9)).toEqual({ lo: 4, hi: 9 });
    expect(receiptRange(EMPTY_RECEIPTS, 'read', { seqs: [5, 7] })).toEqual({ lo: 4, hi: 7 });
  });

  it('targets from untrusted input are checked', () => {
    expect(() => checkTarget(0)).toThrow(/positive/);
    expect(() => checkTarget(1.5)).toThrow(/positive/);
    expect(() => checkTarget({ seqs: [] })).toThrow(/seqs/);
    expect(() => checkTarget({ seqs: new Array<number>(1001).fill(1) })).toThrow(/seqs/);
    expect(() => checkTarget({ seqs: [1, -2] })).toThrow(/positive/);
    expect(checkTarget({ seqs: [5, 1, 5] })).toEqual({ seqs: [1, 5] });
  });

  it('stored values round-trip; garbage decodes as empty', () => {
    const v = { d: 7, r: 3, dx: [9], rx: [8] };
    expect(decodeReceipts(encodeReceipts(v))).toEqual(v);
    expect(decodeReceipts('nope')).toEqual(EMPTY_RECEIPTS);
    expect(decodeReceipts('{"d":-1,"r":"x","rx":[0,"a",4]}')).toEqual({ d: 0, r: 0, dx: [], rx: [4] });
  });
});

describe('merging receipt values (repair after a dropped write)', () => {
  it('takes the higher marks and the union of loose seqs, and knows when one covers the other', async () => {
    const { mergeReceipts, covers } = await import('./receipts.js');
    const a = { d: 9, r: 4, dx: [12], rx: [] };
    const b = { d: 6, r: 6, dx: [], rx: [9, 12] };
    const m = mergeReceipts(a, b);
    expect(m).toEqual({ d: 9, r: 6, dx: [], rx: [9, 12] });
    expect(covers(m, a) && covers(m, b)).toBe(true);
    expect(covers(a, b)).toBe(false);
    expect(covers(a, EMPTY_RECEIPTS)).toBe(true);
  });
});
