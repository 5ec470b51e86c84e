/**
 * A TCP proxy on a port that stays the same while the gateway behind it changes: the page's
 * URL never changes when a gateway is killed, restarted, or replaced by another node.
 * It can also refuse WebSocket upgrades with 403 (plain HTTP passes), and cut every
 * connection at once.
 * @module
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

const HEAD_END = '\r\n\r\n';
const MAX_HEAD_BYTES = 64 * 1024;

export class TcpProxy {
  /** Port of the gateway new connections go to. */
  target: number;
  /** Answer `Upgrade: websocket` requests with 403 (as a proxy that blocks WebSocket would). */
  refuseUpgrades = false;
  /** Upgrade requests refused so far. */
  refused = 0;
  readonly #server: Server;
  readonly #open = new Set<Socket>();

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.target = target;
  }

  static async start(target: number): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, target);
    server.on('connection', (s) => proxy.#accept(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Destroys every connection (both sides): streams and sockets are cut without a goodbye. */
  cutAll(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(s: Socket): void {
    this.#open.add(s);
    s.once('close', () => this.#open.delete(s));
    s.on('error', () => s.destroy());
  }

  #accept(client: Socket): void {
    this.#track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const text = head.toString('latin1');
      if (!text.includes(HEAD_END) && head.length < MAX_HEAD_BYTES) return;
      client.off('data', onData);
      client.pause();
      if (this.refuseUpgrades && /^upgrade:\s*websocket\s*$/im.test(text.slice(0, text.indexOf(HEAD_END)))) {
        this.refused++;
        const body = '{"error":{"code":"forbidden","message":"WebSocket blocked by a proxy"}}';
        client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
        return;
      }
      const upstream = connect(this.target, '127.0.0.1');
      this.#track(upstream);
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      const both = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.once('close', both);
      upstream.once('close', both);
    };
    client.on('data', onData);
  }
}
