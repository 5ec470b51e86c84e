/**
 * The "by hand" baseline: what a team writes in an afternoon. The `ws` library on a Node
 * HTTP server, an HS256 check with jose at upgrade, core NATS pub/sub (one subscription per
 * channel with local sockets), and a JavaScript loop over the sockets of a channel.
 * POST /publish {"topic"|"user","data"} publishes to NATS; every node fans out what it receives.
 * Env: HERALD_PORT, HERALD_JWT_SECRET, HERALD_NATS_URL. Logs {"msg":"listening","port"}.
 * @module
 */
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { connect, type Subscription } from '@nats-io/transport-node';
import WebSocket, { WebSocketServer } from 'ws';

const secret = new TextEncoder().encode(process.env['HERALD_JWT_SECRET'] ?? '');
const nc = await connect({ servers: process.env['HERALD_NATS_URL'] ?? 'nats://127.0.0.1:4222' });
const channels = new Map<string, { sockets: Set<WebSocket>; sub: Subscription }>();
let seq = 0;

const subject = (ch: string): string => 'byhand.' + Buffer.from(ch).toString('base64url');

function join(ws: WebSocket, ch: string): void {
  let c = channels.get(ch);
  if (c === undefined) {
    const sockets = new Set<WebSocket>();
    const sub = nc.subscribe(subject(ch), {
      callback: (_err, msg) => {
        const text = msg.string();
        for (const s of sockets) s.send(text);
      },
    });
    c = { sockets, sub };
    channels.set(ch, c);
  }
  c.sockets.add(ws);
}

function leave(ws: WebSocket, ch: string): void {
  const c = channels.get(ch);
  if (c === undefined) return;
  c.sockets.delete(ws);
  if (c.sockets.size === 0) {
    c.sub.unsubscribe();
    channels.delete(ch);
  }
}

const wss = new WebSocketServer({ noServer: true, handleProtocols: () => 'herald.v1' });

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { topic?: string; user?: string; data: unknown };
    const ch = body.user !== undefined ? 'user:' + body.user : 'topic:' + String(body.topic);
    const s = ++seq;
    nc.publish(subject(ch), '{"op":"msg","ch":' + JSON.stringify(ch) + ',"seq":' + s + ',"prev":' + (s - 1) + ',"ts":' + Date.now() + ',"data":' + JSON.stringify(body.data) + '}');
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});

server.on('upgrade', (req, socket, head) => {
  const token = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).find((p) => p.startsWith('herald.bearer.'))?.slice(14) ?? '';
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const mine: string[] = ['user:' + String(payload.sub)];
        join(ws, mine[0] as string);
        ws.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as { op: string; id: unknown; topics?: string[] };
          if (frame.op === 'sub') {
            for (const t of frame.topics ?? []) {
              mine.push('topic:' + t);
              join(ws, 'topic:' + t);
            }
            nc.flush().then(() => ws.send(JSON.stringify({ op: 'ack', id: frame.id })), () => ws.close(1011));
          }
        });
        ws.on('close', () => { for (const ch of mine) leave(ws, ch); });
        ws.send('{"op":"welcome"}');
      });
    },
    () => {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
    },
  );
});

server.listen(Number(process.env['HERALD_PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: typeof a === 'object' && a ? a.port : 0 }) + '\n');
});
