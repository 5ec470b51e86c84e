import { afterEach, describe, expect, it } from 'vitest';
import { asApp, type App } from './types.js';
import { listen } from './http.js';
import { isNativeUws, loadedUws, loadUws, MAX_REQUEST_HEAD_BYTES } from './load.js';

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

describe('request head limit', () => {
  const statusWithHeader = async (port: number, bytes: number): Promise<number> => {
    const { request } = await import('node:http');
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/x', headers: { 'last-event-id': 'x'.repeat(bytes) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  };

  it(`accepts a ${MAX_REQUEST_HEAD_BYTES / 1024} KiB head less a little on every build (large tokens, long Last-Event-IDs)`, async () => {
    const app = asApp(loadUws().App());
    apps.push(app);
    app.get('/x', (res) => void res.end('ok'));
    const l = await listen(app, '127.0.0.1', 0);
    expect(await statusWithHeader(l.port, MAX_REQUEST_HEAD_BYTES - 1024)).toBe(200);
  });

  it.runIf(loadedUws().build.version === '20.57.0')('answers 431 beyond it (the 20.57 build enforces the limit)', async () => {
    const app = asApp(loadUws().App());
    apps.push(app);
    app.get('/x', (res) => void res.end('ok'));
    const l = await listen(app, '127.0.0.1', 0);
    expect(await statusWithHeader(l.port, MAX_REQUEST_HEAD_BYTES + 1024)).toBe(431);
  });
});
