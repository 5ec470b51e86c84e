/**
 * The load generator: a separate process (so it never shares a core's accounting
 * with the server) that opens authenticated connections, subscribes, and measures
 * publish→deliver latency from the `ts` field each delivery carries.
 * Speaks Herald's WebSocket protocol (also used by the ceiling and the by-hand server)
 * or socket.io. Talks to the parent over IPC; latencies travel as a histogram (ms → count).
 * A socket the server closes (e.g. a slow consumer under overload) leaves `conns` and is
 * remembered, so `reconnect` can restore the subscriber count before the next measurement.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { io, type Socket as SioSocket } from 'socket.io-client';

export type Protocol = 'herald' | 'sio';

export interface ConnectCmd {
  type: 'connect';
  protocol: Protocol;
  /** One URL per connection index modulo its length (several gateway nodes). */
  urls: string[];
  tokens: string[];
  topic: string;
  concurrency: number;
  /** Offer permessage-deflate (ws client). */
  deflate: boolean;
}
type Command = ConnectCmd | { type: 'reconnect' } | { type: 'collect' } | { type: 'count' } | { type: 'close' } | { type: 'exit' };

/** What it takes to open one connection again. */
interface Spec { protocol: Protocol; url: string; token: string; topic: string; deflate: boolean }
interface Conn { close(): void; socket: Socket | undefined; extensions: string; spec: Spec; closing: boolean }

const conns: Conn[] = [];
/** Connections the server closed, not us. */
let dropped: Spec[] = [];
let received = 0;
let hist = new Map<number, number>();
let cpuMark = process.cpuUsage();
let wallMark = performance.now();
const TS = /"ts":(\d+)/;

function send(msg: unknown): void {
  process.send?.(msg);
}

function record(ts: number): void {
  received++;
  const l = Date.now() - ts;
  hist.set(l, (hist.get(l) ?? 0) + 1);
}

function onServerClose(conn: Conn): void {
  if (conn.closing) return;
  conn.closing = true;
  const i = conns.indexOf(conn);
  if (i < 0) return; // never established: the connect already counted it as failed
  conns.splice(i, 1);
  dropped.push(conn.spec);
}

function connectHerald(spec: Spec, handshakes: number[]): Promise<void> {
  const { url, token, topic, deflate } = spec;
  const t0 = performance.now();
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, ['herald.v1', `herald.bearer.${token}`], { perMessageDeflate: deflate });
    const conn: Conn = { close: () => { conn.closing = true; ws.terminate(); }, socket: undefined, extensions: '', spec, closing: false };
    ws.once('upgrade', (res: IncomingMessage) => (conn.socket = res.socket as Socket));
    ws.once('error', reject);
    ws.once('close', () => { onServerClose(conn); reject(new Error('closed during handshake')); });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"op":"msg"')) {
        const m = TS.exec(text);
        if (m) record(Number(m[1]));
        return;
      }
      if (text.includes('"op":"welcome"')) {
        handshakes.push(performance.now() - t0);
        conn.extensions = ws.extensions;
        ws.send(JSON.stringify({ op: 'sub', id: 1, topics: [topic] }));
      } else if (text.includes('"op":"ack"')) {
        conns.push(conn);
        resolve();
      }
    });
  });
}

function connectSio(spec: Spec, handshakes: number[]): Promise<void> {
  const t0 = performance.now();
  return new Promise<void>((resolve, reject) => {
    const s: SioSocket = io(spec.url, { transports: ['websocket'], auth: { token: spec.token }, reconnection: false, forceNew: true });
    const conn: Conn = { close: () => { conn.closing = true; s.disconnect(); }, socket: undefined, extensions: '', spec, closing: false };
    s.once('connect_error', reject);
    s.on('msg', (m: { ts: number }) => record(m.ts));
    s.once('connect', () => {
      handshakes.push(performance.now() - t0);
      s.once('disconnect', () => onServerClose(conn));
      s.emit('sub', [spec.topic], () => {
        conns.push(conn);
        resolve();
      });
    });
  });
}

/** Opens `specs` with `concurrency` handshakes at a time and reports to the parent. */
async function connectAll(specs: Spec[], concurrency: number): Promise<void> {
  const handshakes: number[] = [];
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const spec = specs[next++] as Spec;
      try {
        if (spec.protocol === 'sio') await connectSio(spec, handshakes);
        else await connectHerald(spec, handshakes);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const extensions = conns[conns.length - 1]?.extensions ?? '';
  send({ type: 'connected', count: conns.length, failed, ms: performance.now() - started, handshakes, extensions });
}

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') {
    const specs = cmd.tokens.map((token, i): Spec => ({ protocol: cmd.protocol, url: cmd.urls[i % cmd.urls.length] as string, token, topic: cmd.topic, deflate: cmd.deflate }));
    connectAll(specs, cmd.concurrency).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  } else if (cmd.type === 'reconnect') {
    const specs = dropped;
    dropped = [];
    connectAll(specs, 8).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  } else if (cmd.type === 'count') {
    send({ type: 'count', received, open: conns.length });
  } else if (cmd.type === 'collect') {
    const cpu = process.cpuUsage(cpuMark);
    const now = performance.now();
    let bytesRead = 0;
    for (const c of conns) bytesRead += c.socket?.bytesRead ?? 0;
    send({ type: 'collected', received, hist: [...hist.entries()], cpuMs: (cpu.user + cpu.system) / 1000, wallMs: now - wallMark, bytesRead });
    received = 0;
    hist = new Map();
    cpuMark = process.cpuUsage();
    wallMark = now;
  } else if (cmd.type === 'close') {
    for (const c of conns.splice(0)) c.close();
    dropped = [];
    send({ type: 'closed' });
  } else {
    for (const c of conns) c.close();
    process.exit(0);
  }
});
send({ type: 'ready' });
