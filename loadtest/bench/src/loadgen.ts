/**
 * The load generator: a separate process (so it never shares a core's accounting
 * with the server) that opens authenticated connections, subscribes, and measures
 * publish→deliver latency from the `ts` field each delivery carries.
 * Speaks Herald's WebSocket protocol (also used by the ceiling and the by-hand server)
 * or socket.io. Talks to the parent over IPC; latencies travel as a histogram (ms → count).
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
type Command = ConnectCmd | { type: 'collect' } | { type: 'count' } | { type: 'close' } | { type: 'exit' };

interface Conn { close(): void; socket: Socket | undefined; extensions: string }

const conns: Conn[] = [];
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

function connectHerald(url: string, token: string, topic: string, deflate: boolean, handshakes: number[]): Promise<void> {
  const t0 = performance.now();
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, ['herald.v1', `herald.bearer.${token}`], { perMessageDeflate: deflate });
    const conn: Conn = { close: () => ws.terminate(), socket: undefined, extensions: '' };
    ws.once('upgrade', (res: IncomingMessage) => (conn.socket = res.socket as Socket));
    ws.once('error', reject);
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

function connectSio(url: string, token: string, topic: string, handshakes: number[]): Promise<void> {
  const t0 = performance.now();
  return new Promise<void>((resolve, reject) => {
    const s: SioSocket = io(url, { transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true });
    s.once('connect_error', reject);
    s.on('msg', (m: { ts: number }) => record(m.ts));
    s.once('connect', () => {
      handshakes.push(performance.now() - t0);
      s.emit('sub', [topic], () => {
        conns.push({ close: () => s.disconnect(), socket: undefined, extensions: '' });
        resolve();
      });
    });
  });
}

async function connectAll(cmd: ConnectCmd): Promise<void> {
  const handshakes: number[] = [];
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < cmd.tokens.length) {
      const i = next++;
      const token = cmd.tokens[i] as string;
      const url = cmd.urls[i % cmd.urls.length] as string;
      try {
        if (cmd.protocol === 'sio') await connectSio(url, token, cmd.topic, handshakes);
        else await connectHerald(url, token, cmd.topic, cmd.deflate, handshakes);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  const extensions = conns[conns.length - 1]?.extensions ?? '';
  send({ type: 'connected', count: conns.length, failed, ms: performance.now() - started, handshakes, extensions });
}

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') {
    connectAll(cmd).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  } else if (cmd.type === 'count') {
    send({ type: 'count', received });
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
    send({ type: 'closed' });
  } else {
    for (const c of conns) c.close();
    process.exit(0);
  }
});
send({ type: 'ready' });
