import { describe, expect, it } from 'vitest';
import type { DispatchOutcome, PushMessage } from './dispatcher.js';
import { PushError } from './errors.js';
import { MemoryPushTimer, PushTimerCore, timerConsumerConfig, type PushTimerHooks, type TimedMessage } from './timer.js';

interface Item extends TimedMessage { readonly pending: boolean }

function setup(o: { afterMs: number; outcome?: DispatchOutcome | Error; online?: boolean; now: () => number }) {
  const dispatched: PushMessage[] = [];
  const hooks: PushTimerHooks<Item> = {
    needsPush: (i) => Promise.resolve(i.pending),
    message: (i) => ({ id: i.id, user: i.user, payload: 'p', ttlSeconds: 60 }),
    ...(o.online === undefined ? {} : { online: () => Promise.resolve(o.online as boolean) }),
  };
  const core = new PushTimerCore<Item>({
    afterMs: o.afterMs, hooks, now: o.now,
    dispatcher: {
      dispatch: (m) => {
        dispatched.push(m);
        return o.outcome instanceof Error ? Promise.reject(o.outcome) : Promise.resolve(o.outcome ?? { outcome: 'sent', sent: 1, gone: 0, failed: 0, takeover: false });
      },
    },
  });
  return { core, dispatched };
}

const item = (ts: number, pending = true): Item => ({ id: 'm1', user: 'u', ts, pending });

describe('PushTimerCore', () => {
  it('waits for the remaining time, then dispatches once', async () => {
    let now = 1000;
    const { core, dispatched } = setup({ afterMs: 500, now: () => now });
    expect(await core.decide(item(900))).toEqual({ kind: 'wait', ms: 400, why: 'not_due' });
    now = 1400;
    expect(await core.decide(item(900))).toEqual({ kind: 'final', result: 'sent' });
    expect(dispatched).toHaveLength(1);
    expect(core.stats.sent).toBe(1);
  });

  it('skips a delivered message and a stale one without dispatching', async () => {
    const now = 10_000_000;
    const { core, dispatched } = setup({ afterMs: 0, now: () => now });
    expect(await core.decide(item(now, false))).toEqual({ kind: 'final', result: 'delivered' });
    expect(await core.decide(item(now - 3_700_000))).toEqual({ kind: 'final', result: 'stale' });
    expect(dispatched).toHaveLength(0);
  });

  it('with afterMs 0 pushes at once for an offline user and waits for an online one', async () => {
    const now = 5000;
    expect(await setup({ afterMs: 0, online: false, now: () => now }).core.decide(item(now))).toEqual({ kind: 'final', result: 'sent' });
    const online = setup({ afterMs: 0, online: true, now: () => now });
    expect(await online.core.decide(item(now))).toEqual({ kind: 'wait', ms: 10_000, why: 'online' });
    expect(online.dispatched).toHaveLength(0);
  });

  it('maps dispatcher outcomes: held and retry wait, done elsewhere is final, errors wait, PushError is final', async () => {
    const now = 5000;
    const decide = async (outcome: DispatchOutcome | Error) => setup({ afterMs: 0, outcome, now: () => now }).core.decide(item(now));
    expect(await decide({ outcome: 'held', retryInMs: 1000 })).toEqual({ kind: 'wait', ms: 1050, why: 'held' });
    expect(await decide({ outcome: 'retry', retryInMs: 2000 })).toEqual({ kind: 'wait', ms: 2050, why: 'retry' });
    expect(await decide({ outcome: 'done' })).toEqual({ kind: 'final', result: 'done_elsewhere' });
    expect(await decide({ outcome: 'rate_limited' })).toEqual({ kind: 'final', result: 'rate_limited' });
    expect(await decide(new Error('nats down'))).toEqual({ kind: 'wait', ms: 5000, why: 'error' });
    expect(await decide(new PushError('payload_too_large', 'big'))).toEqual({ kind: 'final', result: 'invalid' });
  });

  it('refuses a negative afterMs', () => {
    expect(() => setup({ afterMs: -1, now: Date.now })).toThrow(TypeError);
  });
});

describe('MemoryPushTimer', () => {
  it('dispatches a due message and bounds the pending timers', async () => {
    const dispatched: string[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const timer = new MemoryPushTimer<Item>({
      afterMs: 20, maxPending: 1,
      hooks: { needsPush: () => Promise.resolve(true), message: (i) => ({ id: i.id, user: i.user, payload: 'p', ttlSeconds: 60 }) },
      dispatcher: {
        dispatch: (m) => {
          dispatched.push(m.id);
          resolve();
          return Promise.resolve({ outcome: 'sent', sent: 1, gone: 0, failed: 0, takeover: false });
        },
      },
    });
    timer.schedule(item(Date.now()));
    timer.schedule({ ...item(Date.now()), id: 'm2' });
    expect(timer.dropped).toBe(1);
    await done;
    expect(dispatched).toEqual(['m1']);
    timer.stop();
  });
});

describe('timerConsumerConfig', () => {
  it('is a durable explicit-ack consumer from a start time with bounded redelivery', () => {
    const c = timerConsumerConfig({ durable: 'd', filterSubject: 'herald.inbox.>', ackWaitMs: 30_000, maxDeliver: 100, maxAckPending: 20_000, startMs: 0 });
    expect(c).toMatchObject({ durable_name: 'd', ack_policy: 'explicit', ack_wait: 30_000_000_000, max_deliver: 100, max_ack_pending: 20_000, deliver_policy: 'by_start_time', opt_start_time: '1970-01-01T00:00:00.000Z' });
  });
});
