/** The TCP load balancer in the test: spreads client connections over the live gateways. */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  readonly backend: Socket;
  readonly port: number;
  frozen: boolean;
}

/**
 * A TCP proxy that spreads new connections round-robin over the backends it is told are
 * live (and tries the next one when a backend refuses). A backend that closes closes the
 * client side too, so clients see their connection drop and reconnect through the proxy to a
 * survivor. `freeze()` stops forwarding on every open connection without closing it (a
 * black-holed network path); connections opened later work normally.
 */
export class LoadBalancer {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #backends: number[] = [];
  #next = 0;
  port = 0;

  constructor(backends: number[]) {
    this.#backends = [...backends];
    this.#server = createServer((client) => this.#accept(client, 0));
  }

  /** `backlog`: the listen queue (Node's default 511; a crowd arriving at once needs more). */
  async listen(backlog?: number): Promise<this> {
    await new Promise<void>((r) => this.#server.listen({ port: 0, host: '127.0.0.1', ...(backlog === undefined ? {} : { backlog }) }, () => r()));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setBackends(ports: number[]): void {
    this.#backends = [...ports];
  }

  get backends(): readonly number[] {
    return this.#backends;
  }

  /** Open connections per backend port. */
  counts(): Map<number, number> {
    const m = new Map<number, number>();
    for (const p of this.#pairs) m.set(p.port, (m.get(p.port) ?? 0) + 1);
    return m;
  }

  #accept(client: Socket, tries: number): void {
    client.pause();
    client.on('error', () => undefined);
    if (this.#backends.length === 0 || tries >= Math.max(3, this.#backends.length * 2)) {
      client.destroy();
      return;
    }
    const port = this.#backends[this.#next++ % this.#backends.length] as number;
    const backend = connect({ port, host: '127.0.0.1' });
    let up = false;
    backend.once('error', () => {
      if (!up) this.#accept(client, tries + 1);
    });
    backend.once('connect', () => {
      up = true;
      const pair: Pair = { client, backend, port, frozen: false };
      this.#pairs.add(pair);
      backend.on('error', () => undefined);
      client.on('data', (d) => {
        if (!pair.frozen) backend.write(d);
      });
      backend.on('data', (d) => {
        if (!pair.frozen) client.write(d);
      });
      const end = (): void => {
        this.#pairs.delete(pair);
        if (pair.frozen) return; // a black hole says nothing
        client.destroy();
        backend.destroy();
      };
      client.once('close', () => {
        this.#pairs.delete(pair);
        backend.destroy();
      });
      backend.once('close', end);
      client.resume();
    });
  }

  /** Stops forwarding on every open connection, without closing anything. Returns how many. */
  freeze(): number {
    let n = 0;
    for (const p of this.#pairs) {
      p.frozen = true;
      n++;
    }
    return n;
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) {
      p.client.destroy();
      p.backend.destroy();
    }
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
