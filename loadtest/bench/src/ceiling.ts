/**
 * The ceiling baseline: a minimal raw uWebSockets.js server speaking Herald's frames
 * with nothing else: HS256 check at upgrade, `sub`, one serialization, native publish.
 * No history, no limits, no metrics. Herald is measured against it in the same run.
 * POST /publish {"topic"|"user","data"} publishes; CEILING_COMPRESSION picks permessage-deflate; logs {"msg":"listening","port"} when up.
 * @module
 */
import { jwtVerify } from 'jose';
import { asApp, listen, loadUws } from '@herald/uws';

interface Conn { sub: string }

const secret = new TextEncoder().encode(process.env['HERALD_JWT_SECRET'] ?? '');
const uws = loadUws();
const app = asApp(uws.App());
let seq = 0;
/** CEILING_COMPRESSION: off | shared | dedicated (the same uWS options as HERALD_WS_COMPRESSION). */
const compressionMode = process.env['CEILING_COMPRESSION'] ?? 'off';
const compression = { off: uws.DISABLED, shared: uws.SHARED_COMPRESSOR | uws.SHARED_DECOMPRESSOR, dedicated: uws.DEDICATED_COMPRESSOR_4KB | uws.SHARED_DECOMPRESSOR }[compressionMode] ?? uws.DISABLED;
const compress = compression !== uws.DISABLED;

app.ws<Conn>('/v1/ws', {
  compression,
  maxPayloadLength: 16 * 1024,
  idleTimeout: 120,
  maxBackpressure: 1024 * 1024,
  upgrade: (res, req, context) => {
    const key = req.getHeader('sec-websocket-key');
    const protocols = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    const token = protocols.split(',').map((p) => p.trim()).find((p) => p.startsWith('herald.bearer.'))?.slice(14) ?? '';
    let aborted = false;
    res.onAborted(() => (aborted = true));
    jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
      ({ payload }) => {
        if (!aborted) res.cork(() => res.upgrade<Conn>({ sub: String(payload.sub) }, key, 'herald.v1', extensions, context));
      },
      () => {
        if (!aborted) res.cork(() => res.writeStatus('401 Unauthorized').end());
      },
    );
  },
  open: (ws) => {
    ws.subscribe('user:' + ws.getUserData().sub);
    ws.send('{"op":"welcome"}');
  },
  message: (ws, data) => {
    const frame = JSON.parse(Buffer.from(data).toString()) as { op: string; id: unknown; topics?: string[] };
    if (frame.op === 'sub') {
      for (const t of frame.topics ?? []) ws.subscribe('topic:' + t);
      ws.send(JSON.stringify({ op: 'ack', id: frame.id }));
    }
  },
});

app.post('/publish', (res) => {
  let aborted = false;
  res.onAborted(() => (aborted = true));
  const chunks: Buffer[] = [];
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (!isLast) return;
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { topic?: string; user?: string; data: unknown };
    const s = ++seq;
    const ch = body.user !== undefined ? 'user:' + body.user : 'topic:' + String(body.topic);
    app.publish(ch, '{"op":"msg","ch":' + JSON.stringify(ch) + ',"seq":' + s + ',"prev":' + (s - 1) + ',"ts":' + Date.now() + ',"data":' + JSON.stringify(body.data) + '}', false, compress);
    if (!aborted) res.cork(() => res.end('{"ok":true}'));
  });
});

const l = await listen(app, '127.0.0.1', Number(process.env['HERALD_PORT'] ?? 0));
process.stdout.write(JSON.stringify({ msg: 'listening', port: l.port }) + '\n');
// A plain exit on SIGTERM, so that `node --cpu-prof` writes its profile (npm run bench:profile).
process.on('SIGTERM', () => process.exit(0));
