// guardApp on a real uWS app: a throwing handler is answered or closed, reported, and the process serves on.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { asApp, type App } from './types.js';
import { listen } from './http.js';
import { loadUws } from './load.js';
import { guardApp } from './guard.js';

const apps: App[] = [];
afterEach(() => {
  for (const a of apps.splice(0)) a.close();
});

async function guarded(setup: (app: App) => void): Promise<{ url: string; errors: string[] }> {
  const errors: string[] = [];
  const app = guardApp(asApp(loadUws().App()), (err, where) => errors.push(`${where}: ${err instanceof Error ? err.message : String(err)}`));
  apps.push(app);
  setup(app);
  app.get('/alive', (res) => void res.end('alive'));
  const l = await listen(app, '127.0.0.1', 0);
  return { url: `127.0.0.1:${l.port}`, errors };
}

function closeOf(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.on('close', (code) => resolve(code)));
}

describe('guardApp', () => {
  it('answers 500 internal to a route that throws before answering, and keeps serving (unguarded, uWS ends the process)', async () => {
    const { url, errors } = await guarded((app) => {
      app.get('/boom', () => {
        throw new Error('bug');
      });
      app.post('/late', (res) => {
        res.end('answered');
        throw new Error('after the answer');
      });
    });
    const r = await fetch(`http://${url}/boom`);
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: { code: 'internal', message: 'internal error' } });
    const late = await fetch(`http://${url}/late`, { method: 'POST' });
    expect([late.status, await late.text()]).toEqual([200, 'answered']);
    expect(await (await fetch(`http://${url}/alive`)).text()).toBe('alive');
    expect(errors).toEqual(['GET /boom: bug', 'POST /late: after the answer']);
  });

  it('reports a handler promise that rejects after answering (no unhandled rejection)', async () => {
    const { url, errors } = await guarded((app) => {
      app.get('/async', async (res) => {
        res.end('ok');
        await Promise.resolve();
        throw new Error('later');
      });
    });
    expect(await (await fetch(`http://${url}/async`)).text()).toBe('ok');
    await expect.poll(() => errors).toEqual(['GET /async: later']);
  });

  it('closes a socket whose message handler throws with 1011; other sockets and routes go on', async () => {
    const { url, errors } = await guarded((app) => {
      app.ws('/ws', {
        message: (ws, data) => {
          if (Buffer.from(data).toString() === 'boom') throw new Error('bad frame bug');
          ws.send(data);
        },
      });
    });
    const a = new WebSocket(`ws://${url}/ws`);
    const b = new WebSocket(`ws://${url}/ws`);
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('open', r))));
    const closed = closeOf(a);
    a.send('boom');
    expect(await closed).toBe(1011);
    const echo = new Promise<string>((r) => b.once('message', (d: Buffer) => r(d.toString())));
    b.send('hello');
    expect(await echo).toBe('hello');
    b.close();
    expect(errors).toEqual(['ws message /ws: bad frame bug']);
  });

  it('answers 500 to an upgrade that throws, closes a socket whose open throws, and reports a throwing close', async () => {
    const { url, errors } = await guarded((app) => {
      app.ws('/up', {
        upgrade: () => {
          throw new Error('upgrade bug');
        },
      });
      app.ws('/open', {
        open: () => {
          throw new Error('open bug');
        },
        close: () => {
          throw new Error('close bug');
        },
      });
    });
    const refused = new WebSocket(`ws://${url}/up`);
    const status = await new Promise<number>((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(500);
    const opened = new WebSocket(`ws://${url}/open`);
    expect(await closeOf(opened)).toBe(1011);
    await expect.poll(() => errors).toEqual(['ws upgrade /up: upgrade bug', 'ws open /open: open bug', 'ws close /open: close bug']);
    expect(await (await fetch(`http://${url}/alive`)).text()).toBe('alive');
  });
});
