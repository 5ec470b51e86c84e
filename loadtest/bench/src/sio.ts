/**
 * The socket.io baseline: rooms with the default (in-memory) adapter. The JWT (HS256,
 * jose) comes in the handshake's `auth.token`; each socket joins `user:<sub>`, and
 * `sub` joins `topic:<t>` rooms. POST /publish {"topic"|"user","data"} emits `msg`
 * to the room. Env: HERALD_PORT, HERALD_JWT_SECRET. Logs {"msg":"listening","port"}.
 * @module
 */
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';

const secret = new TextEncoder().encode(process.env['HERALD_JWT_SECRET'] ?? '');
let seq = 0;

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/publish') {
    if (!res.headersSent && !(req.url ?? '').startsWith('/socket.io')) res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { topic?: string; user?: string; data: unknown };
    const ch = body.user !== undefined ? 'user:' + body.user : 'topic:' + String(body.topic);
    const s = ++seq;
    ioServer.to(ch).emit('msg', { op: 'msg', ch, seq: s, prev: s - 1, ts: Date.now(), data: body.data });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});

const ioServer = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

ioServer.use((socket, next) => {
  const token = String((socket.handshake.auth as { token?: unknown }).token ?? '');
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      socket.data = { sub: String(payload.sub) };
      next();
    },
    () => next(new Error('unauthorized')),
  );
});

ioServer.on('connection', (socket) => {
  void socket.join('user:' + (socket.data as { sub: string }).sub);
  socket.on('sub', (topics: string[], ack: () => void) => {
    for (const t of topics) void socket.join('topic:' + t);
    ack();
  });
});

server.listen(Number(process.env['HERALD_PORT'] ?? 0), '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ msg: 'listening', port: typeof a === 'object' && a ? a.port : 0 }) + '\n');
});
