/**
 * A real WebSocket client (the `ws` library, not ours) for tests: records every
 * server frame, waits on predicates, and reports handshake refusals with their
 * HTTP status and body.
 * @module
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import type { ServerFrame } from '@herald/protocol';

export interface WsClientOptions {
  /** How the token travels (PROTOCOL §1); default `protocol`. */
  readonly via?: 'protocol' | 'header' | 'query';
  readonly token?: string;
  readonly origin?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra query string parameters (`since`, `epoch`). */
  readonly query?: Readonly<Record<string, string>>;
  /** Subprotocols offered when `via` is not `protocol` (or in addition). */
  readonly protocols?: readonly string[];
}

export interface Refusal {
  readonly status: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export class WsTestClient {
  readonly frames: ServerFrame[] = [];
  readonly raw: string[] = [];
  readonly closed: Promise<CloseInfo>;
  #waiters = new Set<() => void>();
  #closeInfo: CloseInfo | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      this.raw.push(text);
      try {
        this.frames.push(JSON.parse(text) as ServerFrame);
      } catch {
        /* recorded in raw */
      }
      for (const w of this.#waiters) w();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.#closeInfo = { code, reason: reason.toString() };
        resolve(this.#closeInfo);
        for (const w of this.#waiters) w();
      });
    });
  }

  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Frames of one op. */
  ofOp<Op extends ServerFrame['op']>(op: Op): Extract<ServerFrame, { op: Op }>[] {
    return this.frames.filter((f): f is Extract<ServerFrame, { op: Op }> => f.op === op);
  }

  /** Resolves with the first recorded frame (from `from` on) that matches; rejects on timeout or close. */
  waitFrame<F extends ServerFrame = ServerFrame>(pred: (f: ServerFrame) => boolean, timeoutMs = 5000, from = 0): Promise<F> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.frames.length; i++) {
          const f = this.frames[i] as ServerFrame;
          if (pred(f)) {
            done();
            resolve(f as F);
            return true;
          }
        }
        if (this.#closeInfo) {
          done();
          reject(new Error(`closed (${this.#closeInfo.code} ${this.#closeInfo.reason}) before the expected frame`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a frame; got ${this.raw.slice(-5).join(' | ')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(listener);
      };
      const listener = (): void => void check();
      if (!check()) this.#waiters.add(listener);
    });
  }

  /** Waits until `count` frames of op `msg` on channel `ch` have arrived. */
  async waitMessages(ch: string, count: number, timeoutMs = 5000): Promise<Extract<ServerFrame, { op: 'msg' }>[]> {
    const mine = (): Extract<ServerFrame, { op: 'msg' }>[] => this.ofOp('msg').filter((m) => m.ch === ch);
    await this.waitFrame(() => mine().length >= count, timeoutMs);
    return mine();
  }

  /** Sends a frame with an id and waits for the reply with that id. */
  async request(frame: { op: string; id: string | number } & Record<string, unknown>, timeoutMs = 5000): Promise<ServerFrame> {
    const from = this.frames.length;
    this.send(frame);
    return this.waitFrame((f) => 'id' in f && f.id === frame.id && f.op !== 'msg', timeoutMs, from);
  }

  close(code = 1000): Promise<CloseInfo> {
    if (!this.#closeInfo) this.ws.close(code);
    return this.closed;
  }

  /** Hard drop without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }
}

function buildUrl(base: string, opts: WsClientOptions): string {
  const url = new URL(base);
  if (opts.via === 'query' && opts.token !== undefined) url.searchParams.set('token', opts.token);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * Opens a WebSocket and resolves once `welcome` arrived, or with the refusal when the
 * upgrade was answered with an HTTP status. Rejects on anything else.
 */
export function openWs(url: string, opts: WsClientOptions = {}): Promise<WsTestClient | Refusal> {
  const via = opts.via ?? 'protocol';
  const protocols = [...(opts.protocols ?? [])];
  if (via === 'protocol') {
    protocols.unshift('herald.v1');
    if (opts.token !== undefined) protocols.push(`herald.bearer.${opts.token}`);
  }
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (via === 'header' && opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  const ws = new WebSocket(buildUrl(url, { ...opts, via }), protocols, {
    headers,
    ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
    handshakeTimeout: 10_000,
  });
  return new Promise((resolve, reject) => {
    const client = new WsTestClient(ws);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    ws.once('error', (err) => reject(err));
    client.waitFrame((f) => f.op === 'welcome', 10_000).then(
      () => resolve(client),
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
}

/** Opens a WebSocket that must succeed. */
export async function connectWs(url: string, opts: WsClientOptions = {}): Promise<WsTestClient> {
  const r = await openWs(url, opts);
  if (!(r instanceof WsTestClient)) throw new Error(`upgrade refused: ${r.status} ${r.body}`);
  return r;
}

/** Opens a WebSocket that must be refused during the upgrade. */
export async function refusedWs(url: string, opts: WsClientOptions = {}): Promise<Refusal> {
  const r = await openWs(url, opts);
  if (r instanceof WsTestClient) {
    r.terminate();
    throw new Error('upgrade unexpectedly accepted');
  }
  return r;
}
