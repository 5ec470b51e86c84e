/**
 * The browser's hints about the network and the page: `offline` / `online` and
 * `visibilitychange`. Absent in Node, where the watcher does nothing.
 * @module
 */

interface Target {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface Globals extends Partial<Target> {
  readonly navigator?: { readonly onLine?: boolean };
  readonly document?: Target & { readonly visibilityState?: string };
}

/** @internal True only when the platform says the network is gone (`navigator.onLine === false`). */
export function isOffline(): boolean {
  return (globalThis as Globals).navigator?.onLine === false;
}

/**
 * @internal Starts watching: `offline` when the network goes, `resume` when it is back or the
 * page becomes visible. Returns the function that stops.
 */
export function watchEnvironment(offline: () => void, resume: () => void): () => void {
  const g = globalThis as Globals;
  const doc = g.document;
  const win = g.addEventListener && g.removeEventListener ? (g as Target) : undefined;
  const all: [Target | undefined, string, () => void][] = [
    [win, 'offline', offline],
    [win, 'online', resume],
    [doc, 'visibilitychange', () => doc?.visibilityState === 'visible' && resume()],
  ];
  for (const [t, type, f] of all) t?.addEventListener(type, f);
  return () => {
    for (const [t, type, f] of all) t?.removeEventListener(type, f);
  };
}
