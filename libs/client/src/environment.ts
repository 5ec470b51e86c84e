/**
 * The browser's hints about the network and the page: `offline` / `online` and
 * `visibilitychange`. Absent in Node, where the watcher does nothing.
 * @module
 */

interface Target {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** @internal */
export interface EnvironmentHooks {
  offline(): void;
  online(): void;
  visible(): void;
}

interface Globals {
  readonly navigator?: { readonly onLine?: boolean };
  readonly document?: Target & { readonly visibilityState?: string };
  readonly addEventListener?: Target['addEventListener'];
  readonly removeEventListener?: Target['removeEventListener'];
}

/** @internal True only when the platform says the network is gone (`navigator.onLine === false`). */
export function isOffline(): boolean {
  return (globalThis as Globals).navigator?.onLine === false;
}

/** @internal Starts watching; returns the function that stops. */
export function watchEnvironment(hooks: EnvironmentHooks): () => void {
  const g = globalThis as Globals;
  const doc = g.document;
  const win: Target | undefined = typeof g.addEventListener === 'function' && typeof g.removeEventListener === 'function' ? (g as Target) : undefined;
  const onOffline = (): void => hooks.offline();
  const onOnline = (): void => hooks.online();
  const onVisibility = (): void => {
    if (doc?.visibilityState === 'visible') hooks.visible();
  };
  win?.addEventListener('offline', onOffline);
  win?.addEventListener('online', onOnline);
  doc?.addEventListener('visibilitychange', onVisibility);
  return () => {
    win?.removeEventListener('offline', onOffline);
    win?.removeEventListener('online', onOnline);
    doc?.removeEventListener('visibilitychange', onVisibility);
  };
}
