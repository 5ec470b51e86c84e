/** Free TCP ports on 127.0.0.1, for servers that cannot listen on port 0 themselves. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports this process handed out: never twice (fixtures pick theirs concurrently). */
const handedOut = new Set<number>();
/** The lowest port picked; up to the kernel's ephemeral range. */
const LOWEST = 15_000;

/** The kernel's range for the local ports of outgoing connections ([32768, 60999] by default on Linux). */
function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && lo > 0 && hi >= lo) return [lo, hi];
  } catch { /* not Linux */ }
  return [32_768, 60_999];
}

/** Whether `port` can be listened on now (then released). */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel picks (inside the ephemeral range). */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A free port, picked below the kernel's ephemeral range: a port from inside it can be taken
 * by an outgoing connection (a NATS route between cluster members starting at the same time,
 * a client) between this check and the server's bind, and the server then exits at start
 * (seen as "nothing listens on …" from a cluster fixture now and then). Falls back to a port
 * the kernel picks when the range leaves no room below it.
 */
export async function freePort(): Promise<number> {
  const highest = ephemeralRange()[0] - 1;
  if (highest - LOWEST >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = LOWEST + Math.floor(Math.random() * (highest - LOWEST + 1));
      if (handedOut.has(port) || !(await canListen(port))) continue;
      handedOut.add(port);
      return port;
    }
  }
  for (;;) {
    const port = await kernelPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Resolves when something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
