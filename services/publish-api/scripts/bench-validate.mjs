// Validation cost per publish: times parsePublish and parseBatch on typical bodies (built dist, no I/O).
// Run from the repository root after a build: node services/publish-api/scripts/bench-validate.mjs [module]
// (`module`: another build of publish/validate.js to compare, e.g. one checked out from an older commit).
import { pathToFileURL } from 'node:url';

const target = process.argv[2] === undefined ? new URL('../dist/publish/validate.js', import.meta.url) : pathToFileURL(process.argv[2]);
const { parseBatch, parsePublish } = await import(target.href);

const LIMITS = { maxDataBytes: 65536, maxTargets: 100, maxBatch: 1000 };
const N = 100_000;
const bodies = {
  'publish topic+id': { topic: 'orders.eu', data: { order: 1234, status: 'paid', items: [1, 2, 3] }, id: 'order-1234-paid' },
  'publish users x10': { users: Array.from({ length: 10 }, (_, i) => `user-${i}`), data: { text: 'hello' } },
  'publish invalid topic': { topic: 'bad..name', data: 1 },
};
const batch = { messages: Array.from({ length: 100 }, (_, i) => ({ topic: 'news', data: { i }, id: `m-${i}` })) };

/** Best of 5 rounds of n/5 calls after a warm-up: the least disturbed figure on a shared machine. */
function time(name, n, fn) {
  for (let i = 0; i < Math.min(n, 10_000); i++) fn(); // warm-up
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n / 5; i++) fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / (n / 5));
  }
  console.log(`${name.padEnd(28)} ${(best / 1000).toFixed(3)} µs per call (best of 5 × ${n / 5} calls)`);
}

for (const [name, body] of Object.entries(bodies)) time(name, N, () => parsePublish(body, LIMITS));
time('batch of 100 (per batch)', N / 100, () => parseBatch(batch, LIMITS));
