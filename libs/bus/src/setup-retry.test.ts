// The setup retry loop shared by the stream and consumer setups: which failures it retries, when
// it stops, and how long it pauses. Fake timers (Date included) make every time exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retrySetup, setupRetryPauseMs, type SetupRetry, type SetupRetryOptions } from './setup-retry.js';

const T0 = 1_000_000;

class Refused extends Error {}

/** A step that fails with `failures` in turn, then answers 'ready'; records when each attempt started (ms after T0). */
function scripted(failures: readonly Error[]): { step: () => Promise<string>; starts: number[] } {
  const starts: number[] = [];
  const step = (): Promise<string> => {
    starts.push(Date.now() - T0);
    const err = failures[starts.length - 1];
    return err ? Promise.reject(err) : Promise.resolve('ready');
  };
  return { step, starts };
}

/** Runs the helper to its end under fake time; the outcome is caught at once (no unhandled rejection while time advances). */
async function run(step: () => Promise<string>, options: SetupRetryOptions): Promise<{ value?: string; err?: unknown; endedAt: number }> {
  const outcome = retrySetup(step, options).then(
    (value) => ({ value, endedAt: Date.now() - T0 }),
    (err: unknown) => ({ err, endedAt: Date.now() - T0 }),
  );
  await vi.runAllTimersAsync();
  return await outcome;
}

const isRefused = (err: unknown): boolean => err instanceof Refused;

describe('retrySetup', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries transient failures after the fixed pause and answers the first success', async () => {
    const { step, starts } = scripted([new Error('timeout'), new Error('no responders')]);
    const retries: SetupRetry[] = [];
    const r = await run(step, { deadline: T0 + 10_000, isFinal: isRefused, pause: { kind: 'fixed', ms: 500 }, onRetry: (x) => retries.push(x) });
    expect(r.value).toBe('ready');
    expect(starts).toEqual([0, 500, 1000]);
    expect(retries.map((x) => [(x.err as Error).message, x.attempt, x.pauseMs])).toEqual([['timeout', 1, 500], ['no responders', 2, 500]]);
  });

  it('throws a final failure at once, as it came, without a retry', async () => {
    const refusal = new Refused('bad config');
    const { step, starts } = scripted([refusal]);
    const onRetry = vi.fn();
    const r = await run(step, { deadline: T0 + 10_000, isFinal: isRefused, pause: { kind: 'fixed', ms: 500 }, onRetry });
    expect(r.err).toBe(refusal);
    expect(r.endedAt).toBe(0);
    expect(starts).toEqual([0]);
    expect(onRetry).not.toHaveBeenCalled();
  });

  it('next-attempt-late (the default): starts no attempt at or after the deadline', async () => {
    const last = new Error('third');
    const { step, starts } = scripted([new Error('first'), new Error('second'), last, new Error('never')]);
    const onRetry = vi.fn();
    // At 1000 the next attempt would start at 1500, the deadline: the third failure is thrown then.
    const r = await run(step, { deadline: T0 + 1500, isFinal: isRefused, pause: { kind: 'fixed', ms: 500 }, onRetry });
    expect(r.err).toBe(last);
    expect(starts).toEqual([0, 500, 1000]);
    expect(r.endedAt).toBe(1000);
    expect(onRetry).toHaveBeenCalledTimes(2);
  });

  it('deadline-passed: retries any failure before the deadline, the last pause running past it', async () => {
    const { step, starts } = scripted([new Error('a'), new Error('b'), new Error('c'), new Error('d')]);
    const retries: SetupRetry[] = [];
    // Window 300 ms from the first attempt: failures at 0 and 200 are retried (the second pause,
    // 400 ms, ends at 600), the failure at 600 is past the window.
    const r = await run(step, {
      withinMs: 300, isFinal: isRefused, pause: { kind: 'exponential', firstMs: 200, maxMs: 2000 }, stopWhen: 'deadline-passed', onRetry: (x) => retries.push(x),
    });
    expect((r.err as Error).message).toBe('c');
    expect(starts).toEqual([0, 200, 600]);
    expect(r.endedAt).toBe(600);
    expect(retries.map((x) => x.pauseMs)).toEqual([200, 400]);
  });

  it('the window of withinMs starts with the call', async () => {
    vi.setSystemTime(T0 + 5000);
    const { step, starts } = scripted([new Error('a'), new Error('b')]);
    const r = await run(step, { withinMs: 1000, isFinal: isRefused, pause: { kind: 'fixed', ms: 400 } });
    expect(r.value).toBe('ready');
    expect(starts).toEqual([5000, 5400, 5800]);
  });

  it('a deadline already reached still makes one attempt', async () => {
    const { step, starts } = scripted([]);
    const r = await run(step, { deadline: T0 - 1, isFinal: isRefused, pause: { kind: 'fixed', ms: 500 } });
    expect(r.value).toBe('ready');
    expect(starts).toEqual([0]);
  });
});

describe('setupRetryPauseMs', () => {
  it('fixed: the same pause after every failure', () => {
    expect([1, 2, 10].map((a) => setupRetryPauseMs({ kind: 'fixed', ms: 500 }, a))).toEqual([500, 500, 500]);
  });

  it('exponential: from firstMs, doubling, capped at maxMs', () => {
    const pause = { kind: 'exponential', firstMs: 200, maxMs: 2000 } as const;
    expect([1, 2, 3, 4, 5, 6, 60].map((a) => setupRetryPauseMs(pause, a))).toEqual([200, 400, 800, 1600, 2000, 2000, 2000]);
  });
});
