/**
 * The load generator: a separate process (so it never shares a core's accounting
 * with the server) that opens authenticated WebSockets, subscribes, and measures
 * publish→deliver latency from the `ts` field each delivery carries.
 * Talks to the parent over IPC.
 * @module
 */
import WebSocket from 'ws';

interface Start { type: 'connect'; url: string; tokens: string[]; topic: string; concurrency: number }
interface Collect { type: 'collect' }
type Command = Start | Collect | { type: 'count' } | { type: 'exit' };

const sockets: WebSocket[] = [];
let received = 0;
const latencies: number[] = [];
const TS = /"ts":(\d+)/;

function send(msg: unknown): void {
  process.send?.(msg);
}

async function connectAll(cmd: Start): Promise<void> {
  const handshakes: number[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cmd.tokens.length) {
      const token = cmd.tokens[next++] as string;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(cmd.url, ['herald.v1', `herald.bearer.${token}`], { perMessageDeflate: false });
        ws.once('error', reject);
        ws.on('message', (data) => {
          const text = data.toString();
          if (text.startsWith('{"op":"msg"')) {
            received++;
            const m = TS.exec(text);
            if (m) latencies.push(Date.now() - Number(m[1]));
            return;
          }
          if (text.includes('"op":"welcome"')) {
            handshakes.push(performance.now() - t0);
            ws.send(JSON.stringify({ op: 'sub', id: 1, topics: [cmd.topic] }));
          } else if (text.includes('"op":"ack"')) {
            sockets.push(ws);
            resolve();
          }
        });
      });
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, worker));
  send({ type: 'connected', count: sockets.length, ms: performance.now() - started, handshakes });
}

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') {
    connectAll(cmd).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  } else if (cmd.type === 'count') {
    send({ type: 'count', received });
  } else if (cmd.type === 'collect') {
    send({ type: 'collected', received, latencies: latencies.splice(0), cpuMs: process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 });
    received = 0;
  } else {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
send({ type: 'ready' });
