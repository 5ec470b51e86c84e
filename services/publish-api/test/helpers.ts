// Integration-test helpers: start the built publish API as a process and talk HTTP to it.
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { spawnService, type ServiceProcess } from '@herald/testkit';

/** The built entry point; tests assume `turbo build` ran first. */
export const MAIN_JS = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A key that must never show up in a log line. */
export const API_KEY = 'test-api-key-7f3c9d2e4b1a8c6f';
export const OTHER_KEY = 'second-api-key-0a9b8c7d6e5f4a3b';

export interface Api {
  readonly proc: ServiceProcess;
  readonly base: string;
  /** fetch with the API key (unless `headers.authorization` overrides it) and JSON content type on POST. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
  readonly text: string;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** Starts `node dist/main.js` with HERALD_* variables on a free port. */
export async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const proc = await spawnService({
    args: [MAIN_JS],
    env: { HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_API_KEYS: `${API_KEY},${OTHER_KEY}`, HERALD_LOG_LEVEL: 'debug', ...env },
  });
  return apiClient(proc);
}

/** Calls over HTTP, with API_KEY, to a publish API already running as `proc` (`herald dev` too). */
export function apiClient(proc: ServiceProcess): Api {
  const base = `http://127.0.0.1:${proc.port}`;
  const auth = { authorization: `Bearer ${API_KEY}` };
  return {
    proc,
    base,
    post: async (path, body, headers = {}) =>
      answer(await fetch(base + path, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })),
    get: async (path, headers = {}) => answer(await fetch(base + path, { headers: { ...auth, ...headers } })),
  };
}

/** The `error.code` of an error answer. */
export function errorCode(a: Answer): string | undefined {
  return (a.body as { error?: { code?: string } } | undefined)?.error?.code;
}

export interface RawAnswer {
  readonly status: number;
  readonly body: string;
  /** True when the server announced it closes the connection (`Connection: close`). */
  readonly closed: boolean;
}

/**
 * A raw HTTP request that writes its body in chunks (optionally without Content-Length,
 * i.e. chunked) and resolves as soon as the answer arrives, even if the server answers
 * before the body is sent and then closes the connection.
 */
export function rawPost(port: number, path: string, opts: { chunks: Buffer[]; headers: Record<string, string>; contentLength?: number; chunkDelayMs?: number; end?: boolean }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.contentLength !== undefined) headers['content-length'] = opts.contentLength;
    // A keep-alive agent: the server must then say `Connection: close` itself to close.
    const agent = new Agent({ keepAlive: true });
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode ?? 0, body, closed: res.headers.connection === 'close' });
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const write = (i: number): void => {
      if (answered || i >= opts.chunks.length) {
        if (!answered && opts.end !== false) req.end();
        return;
      }
      // Paced writes: once the server has answered and closed, a write that still races
      // in makes the kernel reset the connection and may drop the unread answer.
      req.write(opts.chunks[i], () => setTimeout(() => write(i + 1), opts.chunkDelayMs ?? 0));
    };
    write(0);
  });
}
