/**
 * A full GC and an exact heap reading of a Herald process started with `--inspect=127.0.0.1:0`,
 * through the V8 inspector protocol (HeapProfiler.collectGarbage, Runtime.getHeapUsage). Heap
 * "used" read from /metrics swings with the GC cycle; after a forced full GC it is the live size.
 * @module
 */
import WebSocket from 'ws';
import { withTimeout } from './soak-common.js';

/** The inspector's WebSocket URL from the process's `Debugger listening on ws://…` line. */
export function inspectorUrl(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(l);
    if (m?.[1] !== undefined) return m[1];
  }
  return undefined;
}

/** Runs two full GCs and returns the heap's used size afterwards, in bytes (bounded to 20 s). */
export async function heapAfterGc(url: string): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  try {
    await withTimeout(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), 5000, 'inspector connect');
    let id = 0;
    const call = (method: string): Promise<Record<string, unknown>> => {
      const my = ++id;
      return withTimeout(new Promise<Record<string, unknown>>((resolve) => {
        const onMsg = (d: WebSocket.RawData): void => {
          const r = JSON.parse(d.toString()) as { id?: number; result?: Record<string, unknown> };
          if (r.id !== my) return;
          ws.off('message', onMsg);
          resolve(r.result ?? {});
        };
        ws.on('message', onMsg);
        ws.send(JSON.stringify({ id: my, method }));
      }), 15_000, `inspector ${method}`);
    };
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const usage = await call('Runtime.getHeapUsage');
    const used = usage['usedSize'];
    if (typeof used !== 'number') throw new Error('inspector: no usedSize');
    return used;
  } finally {
    ws.terminate();
  }
}
