/**
 * Test harness: a HeraldClient wired to a FakeServer (and optionally a scripted SSE fetch),
 * with every event recorded. For unit tests under fake timers.
 * @module
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { HeraldClient } from '../index.js';
import { encodeBase64Url } from '../encoding.js';
import type { ConnectedInfo, ConnectionState, HeraldClientOptions, HeraldErrorLike, HeraldMessage } from '../types.js';
import { FakeServer } from './fake-server.js';

export const NOW = 1_700_000_000_000;

/** Fake timers at NOW and a fixed Math.random (backoff jitter) around every test of the calling file. */
export function useScriptedClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
}

export function fakeJwt(payload: Record<string, unknown>): string {
  return `${encodeBase64Url('{"alg":"HS256"}')}.${encodeBase64Url(JSON.stringify({ sub: 'u1', exp: NOW / 1000 + 3600, ...payload }))}.sig`;
}

export const TOKEN = fakeJwt({});

/** Lets timers due within `ms` run, with the promises they start. */
export async function tick(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  // A timer that fired last may have started a promise chain (getToken, open a socket, its
  // events): let it finish at this same instant.
  for (let j = 0; j < 20; j++) await Promise.resolve();
}

export function setup(opts: Partial<HeraldClientOptions> = {}) {
  const server = new FakeServer();
  const client = new HeraldClient({ url: 'http://gw.test', token: TOKEN, WebSocket: server.WebSocket, transports: ['websocket'], ...opts });
  const states: ConnectionState[] = [];
  const errors: HeraldErrorLike[] = [];
  const unrecovered: string[] = [];
  const user: HeraldMessage[] = [];
  const connected: ConnectedInfo[] = [];
  client.on('state', (s) => states.push(s));
  client.on('error', (e) => errors.push(e));
  client.on('unrecovered', (e) => unrecovered.push(e.channel));
  client.on('user', (m) => user.push(m));
  client.on('connected', (i) => connected.push(i));
  return { server, client, states, errors, unrecovered, user, connected };
}

/** A scripted SSE endpoint for the `fetch` option: each request gets a stream the test writes to. */
export class FakeSse {
  readonly requests: { url: string; headers: Record<string, string>; signal: AbortSignal; write(text: string): void; end(): void }[] = [];
  /** Status of the next responses (200: a stream). */
  status = 200;
  readonly fetch = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }): Promise<Response> => {
    if (this.status !== 200) {
      return Promise.resolve(new Response(JSON.stringify({ error: { code: 'forbidden', message: 'no' } }), { status: this.status }));
    }
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    const enc = new TextEncoder();
    this.requests.push({
      url, headers: init.headers, signal: init.signal,
      write: (text) => ctl.enqueue(enc.encode(text)),
      end: () => ctl.close(),
    });
    init.signal.addEventListener('abort', () => ctl.error(new Error('aborted')));
    return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } }));
  };

  get last() {
    const r = this.requests.at(-1);
    if (r === undefined) throw new Error('no SSE request yet');
    return r;
  }

  static event(type: string, data: object, id?: string): string {
    return `${id === undefined ? '' : `id: ${id}\n`}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  welcome(extra: Record<string, unknown> = {}): void {
    this.last.write(FakeSse.event('welcome', { op: 'welcome', conn: 's1', node: 'n1', user: 'u1', heartbeat: 25_000, epoch: 'e1', transport: 'sse', ...extra }));
  }

  msg(ch: string, seq: number, prev: number): void {
    this.last.write(FakeSse.event('msg', { op: 'msg', ch, seq, prev, ts: NOW, data: seq }));
  }
}
