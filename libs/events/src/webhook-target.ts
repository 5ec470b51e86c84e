/**
 * Webhook targets from HERALD_WEBHOOK_URLS: untrusted configuration, so every URL is parsed,
 * limited to http/https, bounded in length and count, and shown in logs only as origin + path
 * (a query string may hold a token).
 *
 * Syntax: URLs separated by spaces or commas (write a comma inside a URL as `%2C`); an optional
 * `#` fragment names the event types sent to that URL, `|`-separated, each an exact type, a
 * `user.*`-style family or `*`. No fragment: every type. The fragment is never sent.
 * @module
 */
import { createHash } from 'node:crypto';
import { EVENT_TYPES, type EventType } from './event.js';

export const MAX_WEBHOOK_TARGETS = 16;
export const MAX_WEBHOOK_URL_LENGTH = 2048;

export interface WebhookTarget {
  /** 12 hex characters of SHA-256 of the URL: names its consumer, dead letters and metric label. */
  readonly id: string;
  /** The URL requests go to (no fragment). */
  readonly url: string;
  /** Origin and path only: what logs show. */
  readonly display: string;
  /** Event types sent to this URL. */
  readonly types: ReadonlySet<EventType>;
}

/** Parses HERALD_WEBHOOK_URLS. Throws one Error listing every problem (without query strings). */
export function parseWebhookTargets(text: string): WebhookTarget[] {
  const entries = text.split(/[\s,]+/).filter((s) => s.length > 0);
  const problems: string[] = [];
  if (entries.length > MAX_WEBHOOK_TARGETS) problems.push(`at most ${MAX_WEBHOOK_TARGETS} webhook URLs, got ${entries.length}`);
  const targets: WebhookTarget[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.slice(0, MAX_WEBHOOK_TARGETS).entries()) {
    const target = parseOne(entry, i + 1, problems);
    if (!target) continue;
    if (seen.has(target.id)) {
      problems.push(`URL ${i + 1} (${target.display}) is listed twice`);
      continue;
    }
    seen.add(target.id);
    targets.push(target);
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return targets;
}

function parseOne(entry: string, n: number, problems: string[]): WebhookTarget | undefined {
  if (entry.length > MAX_WEBHOOK_URL_LENGTH) {
    problems.push(`URL ${n} is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    problems.push(`URL ${n} is not a URL`);
    return undefined;
  }
  const display = `${url.protocol}//${url.host}${url.pathname}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`URL ${n} must be http or https, not ${url.protocol.slice(0, 20)}`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // fetch refuses URLs with credentials: every attempt would fail until the horizon.
    problems.push(`URL ${n} (${display}) holds a user name or password: put a token in the path or query instead`);
    return undefined;
  }
  const types = parseTypes(safeDecode(url.hash.slice(1)), n, problems);
  url.hash = '';
  const href = url.href;
  if (!types) return undefined;
  return { id: createHash('sha256').update(href).digest('hex').slice(0, 12), url: href, display, types };
}

function parseTypes(fragment: string, n: number, problems: string[]): Set<EventType> | undefined {
  if (fragment === '') return new Set(EVENT_TYPES);
  const out = new Set<EventType>();
  for (const pattern of fragment.split('|')) {
    const matched = EVENT_TYPES.filter((t) => pattern === '*' || t === pattern || (pattern.endsWith('.*') && t.startsWith(pattern.slice(0, -1))));
    if (matched.length === 0) {
      problems.push(`URL ${n}: ${JSON.stringify(pattern.slice(0, 40))} names no event type (${EVENT_TYPES.join(', ')}, a family like user.* or *)`);
      return undefined;
    }
    for (const t of matched) out.add(t);
  }
  return out;
}

/** decodeURIComponent that never throws (a malformed escape stays as written and fails the type check). */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
