/** Helpers every bench module shares: the progress display, the run clock, the payload. */

export const TOPIC = 'bench';
const T0 = performance.now();

/** Seconds since the bench started. */
export const elapsedS = (): number => (performance.now() - T0) / 1000;
const clock = (): string => {
  const s = Math.floor(elapsedS());
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
/** A line of the run log (stderr, so stdout keeps only the final report). */
export const log = (s: string): void => void process.stderr.write(`[${clock()}] ${s}\n`);
/** Rewrites the current line: progress within a phase. */
export const progress = (s: string): void => void process.stderr.write(`\r[${clock()}] ${s}\x1b[K`);
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A typical JSON notification (about 250 bytes as a frame). */
export function notification(i: number): unknown {
  return { type: 'order.updated', i, orderId: `ord_${100000 + (i % 997)}`, status: i % 2 ? 'shipped' : 'packed', carrier: 'DHL', items: 3, total: 129.9, currency: 'EUR', eta: '2026-11-24T10:00:00Z', url: `/orders/ord_${100000 + (i % 997)}` };
}
