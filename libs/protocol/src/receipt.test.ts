import { describe, expect, it } from 'vitest';
import { decodeClientFrame, MAX_RECEIPT_SEQS } from './index.js';

const limits = { maxFrameBytes: 64 * 1024 };
const decode = (o: unknown) => decodeClientFrame(JSON.stringify(o), false, limits);

describe('receipt frame', () => {
  it('accepts upTo or seqs', () => {
    expect(decode({ op: 'receipt', id: 'r1', status: 'delivered', upTo: 57 })).toEqual({ ok: true, frame: { op: 'receipt', id: 'r1', status: 'delivered', upTo: 57 } });
    expect(decode({ op: 'receipt', id: 2, status: 'read', seqs: [55, 57] })).toEqual({ ok: true, frame: { op: 'receipt', id: 2, status: 'read', seqs: [55, 57] } });
  });
  it('refuses a bad status, both or neither target, bad seqs, too many seqs', () => {
    for (const bad of [
      { op: 'receipt', id: 1, status: 'seen', upTo: 1 },
      { op: 'receipt', id: 1, status: 'read' },
      { op: 'receipt', id: 1, status: 'read', upTo: 1, seqs: [1] },
      { op: 'receipt', id: 1, status: 'read', upTo: 0 },
      { op: 'receipt', id: 1, status: 'read', upTo: 1.5 },
      { op: 'receipt', id: 1, status: 'read', seqs: [] },
      { op: 'receipt', id: 1, status: 'read', seqs: [1, -2] },
      { op: 'receipt', id: 1, status: 'read', seqs: ['3'] },
    ]) expect(decode(bad)).toMatchObject({ ok: false, fatal: false, code: 'invalid', id: 1 });
    const many = Array.from({ length: MAX_RECEIPT_SEQS + 1 }, (_, i) => i + 1);
    expect(decode({ op: 'receipt', id: 1, status: 'read', seqs: many })).toMatchObject({ ok: false, code: 'limit' });
  });
});
