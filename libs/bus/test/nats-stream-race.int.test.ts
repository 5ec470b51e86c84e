// Processes starting together on a fresh nats-server all create the history stream at once
// (a deployment's gateways and publish APIs do): every one of them must start. nats-server 2.9
// can answer a losing create with "subjects overlap" rather than "name in use", and an add that
// raced an identical one with a zero creation time (which the epoch is made of).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBus, type Bus } from '@herald/bus';
import { startNatsServer, type NatsServerHandle } from '@herald/testkit';

let nats: NatsServerHandle;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.stop();
});

describe('many processes creating the stream at once', () => {
  it('all start, on one stream, for 1 and 3 partitions', async () => {
    // The race is not won the same way each time: several rounds make a lost one likely here.
    for (const [round, partitions] of Array.from({ length: 12 }, (_, i) => [i, i % 2 === 0 ? 1 : 3] as const)) {
      const prefix = `race${round}`;
      const opened = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => openBus({ natsUrl: nats.url, prefix, stream: `RACE${round}`, partitions, name: `p${i}`, timeoutMs: 10_000 })),
      );
      const failures = opened.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error & { cause?: Error }).cause?.message ?? r.reason)] : []));
      expect(failures, `round ${round}`).toEqual([]);
      const buses = opened.map((r) => (r as PromiseFulfilledResult<Bus>).value);
      // One incarnation: every process names the same epoch.
      expect(new Set(buses.map((b) => b.epoch())).size, `round ${round}: ${buses.map((b) => b.epoch()).join(" ")}`).toBe(1);
      await Promise.all(buses.map((b) => b.close()));
    }
  }, 60_000);
});
