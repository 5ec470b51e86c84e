// Browser hints: no attempts while offline, an attempt at once when back online or visible.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NOW, setup, tick } from './testing/harness.js';

let win: EventTarget;
let nav: { onLine: boolean };

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
  vi.spyOn(Math, 'random').mockReturnValue(0.999);
  win = new EventTarget();
  nav = { onLine: true };
  vi.stubGlobal('navigator', nav);
  vi.stubGlobal('addEventListener', win.addEventListener.bind(win));
  vi.stubGlobal('removeEventListener', win.removeEventListener.bind(win));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('offline / online', () => {
  it('drops the connection when offline, does not spin, reconnects at once when online', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    nav.onLine = false;
    win.dispatchEvent(new Event('offline'));
    expect(t.states.at(-1)).toBe('reconnecting');
    await tick(120_000);
    expect(t.server.sockets).toHaveLength(1);
    nav.onLine = true;
    win.dispatchEvent(new Event('online'));
    await tick();
    expect(t.server.sockets).toHaveLength(2);
    expect(t.states.at(-1)).toBe('connected');
  });

  it('a page made visible again retries at once instead of waiting out the backoff', async () => {
    const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
    vi.stubGlobal('document', doc);
    const t = setup();
    t.client.connect();
    await tick();
    t.server.behavior = 'refuse';
    t.server.last.serverClose(1006);
    await tick(10_000); // attempts at ≤500, ≤1000, ≤2000, ≤4000 ms… all refused
    const before = t.server.sockets.length;
    t.server.behavior = 'welcome';
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    await tick();
    expect(t.server.sockets.length).toBe(before + 1);
    expect(t.states.at(-1)).toBe('connected');
  });

  it('close() stops listening', async () => {
    const t = setup();
    t.client.connect();
    await tick();
    t.client.close();
    win.dispatchEvent(new Event('online'));
    await tick();
    expect(t.server.sockets).toHaveLength(1);
  });
});
