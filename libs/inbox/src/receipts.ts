/**
 * The receipt state of one user and how a receipt changes it: pure functions, shared by the
 * memory and JetStream stores (docs/inbox.md#receipts-one-kv-entry-per-user-cumulative).
 *
 * State: every message with seq ≤ d is delivered, every one with seq ≤ r read; `dx` / `rx`
 * list seqs acknowledged one by one above those marks. Read implies delivered, so r ≤ d.
 * @module
 */
import { InboxError, MAX_PAGE, type InboxState, type ReceiptTarget, type Transition } from './types.js';

export interface ReceiptValue {
  readonly d: number;
  readonly r: number;
  readonly dx: readonly number[];
  readonly rx: readonly number[];
}

export const EMPTY_RECEIPTS: ReceiptValue = { d: 0, r: 0, dx: [], rx: [] };

/** Seqs kept one by one above the marks; past it the oldest are forgotten (their messages go first). */
export const MAX_LOOSE_SEQS = 2 * MAX_PAGE;

export type ReceiptStatus = 'delivered' | 'read';

/** A held message as a receipt sees it. */
export interface HeldRef {
  readonly seq: number;
  readonly id: string;
}

export function stateOf(value: ReceiptValue, seq: number): InboxState {
  if (seq <= value.r || value.rx.includes(seq)) return 'read';
  if (seq <= value.d || value.dx.includes(seq)) return 'delivered';
  return 'pending';
}

/** Checks a receipt target from untrusted input; throws InboxError('invalid'). */
export function checkTarget(target: ReceiptTarget): ReceiptTarget {
  if (typeof target === 'number') {
    if (!Number.isSafeInteger(target) || target < 1) throw new InboxError('invalid', 'upTo must be a positive integer');
    return target;
  }
  const seqs = target.seqs;
  if (!Array.isArray(seqs) || seqs.length === 0 || seqs.length > MAX_PAGE) throw new InboxError('invalid', `seqs must hold 1 to ${MAX_PAGE} seqs`);
  for (const s of seqs) if (!Number.isSafeInteger(s) || s < 1) throw new InboxError('invalid', 'every seq must be a positive integer');
  return { seqs: [...new Set(seqs)].sort((a, b) => a - b) };
}

/**
 * The seq range (lo, hi] a receipt may change, given the current value: what the store reads
 * of the user's held messages before calling {@link applyReceipt}. `undefined`: nothing can change.
 */
export function receiptRange(value: ReceiptValue, status: ReceiptStatus, target: ReceiptTarget): { lo: number; hi: number } | undefined {
  if (typeof target === 'number') {
    const lo = status === 'read' ? value.r : value.d;
    return target > lo ? { lo, hi: target } : undefined;
  }
  const first = target.seqs[0] as number;
  const last = target.seqs[target.seqs.length - 1] as number;
  return { lo: first - 1, hi: last };
}

function normalize(d: number, r: number, dx: Iterable<number>, rx: Iterable<number>): ReceiptValue {
  const d2 = Math.max(d, r);
  const keepR = [...new Set(rx)].filter((s) => s > r).sort((a, b) => a - b).slice(-MAX_LOOSE_SEQS);
  const keepD = [...new Set(dx)].filter((s) => s > d2 && !keepR.includes(s)).sort((a, b) => a - b).slice(-MAX_LOOSE_SEQS);
  return { d: d2, r, dx: keepD, rx: keepR };
}

/**
 * Applies a receipt to `value`. `held` lists the user's held messages in the receipt's range,
 * in seq order. A cumulative mark above the newest held message stops at it. Returns the new
 * value (`undefined` when nothing changed) and one transition per message whose state rose,
 * `message.delivered` before `message.read` for a message that skipped `delivered`.
 */
export function applyReceipt(
  value: ReceiptValue, status: ReceiptStatus, target: ReceiptTarget, held: readonly HeldRef[],
): { next: ReceiptValue | undefined; transitions: Transition[] } {
  let next: ReceiptValue;
  if (typeof target === 'number') {
    let top = 0;
    for (const m of held) if (m.seq <= target && m.seq > top) top = m.seq;
    if (top === 0) return { next: undefined, transitions: [] };
    next = status === 'read' ? normalize(value.d, Math.max(value.r, top), value.dx, value.rx) : normalize(Math.max(value.d, top), value.r, value.dx, value.rx);
  } else {
    const heldSeqs = new Set(held.map((m) => m.seq));
    const hits = target.seqs.filter((s) => heldSeqs.has(s));
    if (hits.length === 0) return { next: undefined, transitions: [] };
    next = status === 'read' ? normalize(value.d, value.r, value.dx, [...value.rx, ...hits]) : normalize(value.d, value.r, [...value.dx, ...hits], value.rx);
  }
  const transitions: Transition[] = [];
  for (const m of held) {
    const before = stateOf(value, m.seq);
    const after = stateOf(next, m.seq);
    if (before === after) continue;
    if (before === 'pending') transitions.push({ type: 'message.delivered', seq: m.seq, id: m.id });
    if (after === 'read') transitions.push({ type: 'message.read', seq: m.seq, id: m.id });
  }
  if (transitions.length === 0 && sameValue(value, next)) return { next: undefined, transitions };
  return { next, transitions };
}

function sameValue(a: ReceiptValue, b: ReceiptValue): boolean {
  return a.d === b.d && a.r === b.r && a.dx.join() === b.dx.join() && a.rx.join() === b.rx.join();
}

/** The least value covering both (marks at their maximum, loose seqs united): states only rise. */
export function mergeReceipts(a: ReceiptValue, b: ReceiptValue): ReceiptValue {
  return normalize(Math.max(a.d, b.d), Math.max(a.r, b.r), [...a.dx, ...b.dx], [...a.rx, ...b.rx]);
}

/** Whether `stored` already holds everything `ours` says. */
export function covers(stored: ReceiptValue, ours: ReceiptValue): boolean {
  const m = mergeReceipts(stored, ours);
  return m.d === stored.d && m.r === stored.r && m.dx.join() === stored.dx.join() && m.rx.join() === stored.rx.join();
}

/** The KV text of a value. */
export function encodeReceipts(value: ReceiptValue): string {
  return JSON.stringify(value);
}

/** Parses a stored value; an unreadable entry counts as empty (never throws). */
export function decodeReceipts(text: string): ReceiptValue {
  try {
    const v = JSON.parse(text) as Partial<ReceiptValue>;
    const num = (x: unknown): number => (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : 0);
    const list = (x: unknown): number[] => (Array.isArray(x) ? x.filter((s): s is number => typeof s === 'number' && Number.isSafeInteger(s) && s > 0) : []);
    return normalize(num(v.d), num(v.r), list(v.dx), list(v.rx));
  } catch {
    return EMPTY_RECEIPTS;
  }
}
