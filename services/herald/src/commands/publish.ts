/**
 * `herald publish --topic news '{"hello":1}'`: sends one message through the
 * publish API (HERALD_PUBLISH_URL, default http://127.0.0.1:8080 for `herald dev`)
 * with HERALD_API_KEY (or the first of HERALD_API_KEYS, or the development key).
 * @module
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../args.js';
import { readDevCredentials } from '../dev-credentials.js';

type Env = Readonly<Record<string, string | undefined>>;

export async function runPublish(argv: readonly string[], env: Env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      topic: { type: 'string', multiple: true },
      user: { type: 'string', multiple: true },
      id: { type: 'string' },
      url: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const topics = values.topic ?? [];
  const users = values.user ?? [];
  if (topics.length + users.length === 0) throw new UsageError('publish: give --topic NAME or --user ID (repeatable)');
  if (topics.length > 0 && users.length > 0) throw new UsageError('publish: give topics or users, not both');
  if (positionals.length !== 1) throw new UsageError(`publish: give the data as one JSON argument, e.g. '{"hello":1}'`);
  let data: unknown;
  try {
    data = JSON.parse(positionals[0] as string);
  } catch {
    throw new UsageError('publish: the data argument is not valid JSON (quote strings: \'"text"\')');
  }
  const apiKey = env['HERALD_API_KEY'] ?? env['HERALD_API_KEYS']?.split(',')[0]?.trim() ?? readDevCredentials(process.cwd())?.apiKey;
  if (!apiKey) throw new UsageError('publish: set HERALD_API_KEY (or run `herald dev` once in this folder for a development key)');
  const base = values.url ?? env['HERALD_PUBLISH_URL'] ?? 'http://127.0.0.1:8080';
  const target =
    topics.length === 1 ? { topic: topics[0] } : topics.length > 1 ? { topics } : users.length === 1 ? { user: users[0] } : { users };
  const body = JSON.stringify({ ...target, data, ...(values.id !== undefined ? { id: values.id } : {}) });
  let res: Response;
  try {
    res = await fetch(new URL('/v1/publish', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body,
    });
  } catch (err) {
    process.stderr.write(`herald: cannot reach the publish API at ${base}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const text = await res.text();
  (res.ok ? process.stdout : process.stderr).write(text + '\n');
  return res.ok ? 0 : 1;
}
