import { afterEach, describe, expect, it } from 'vitest';
import { asApp, type App } from './types.js';
import { listen } from './http.js';
import { isNativeUws, loadUws } from './load.js';

const apps: App[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
});

describe('loadUws', () => {
  it('loads the native binding, and tells the JavaScript shim apart', () => {
    expect(isNativeUws(loadUws())).toBe(true);
    expect(isNativeUws({ App: function App() {} })).toBe(false);
  });
});

describe('listen', () => {
  it('binds a free port for port 0 and answers on it', async () => {
    const app = asApp(loadUws().App());
    apps.push(app);
    app.get('/x', (res) => void res.end('ok'));
    const l = await listen(app, '127.0.0.1', 0);
    expect(l.port).toBeGreaterThan(0);
    expect(await (await fetch(`http://127.0.0.1:${l.port}/x`)).text()).toBe('ok');
  });

  it('refuses a port another listener holds instead of sharing it', async () => {
    const a = asApp(loadUws().App());
    const b = asApp(loadUws().App());
    apps.push(a, b);
    const l = await listen(a, '127.0.0.1', 0);
    await expect(listen(b, '127.0.0.1', l.port)).rejects.toThrow(/cannot listen/);
  });
});
