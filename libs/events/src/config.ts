/**
 * The configuration fragment of events and webhooks (merged into a role's schema like the
 * fragments of @herald/config), every key with its unit and default.
 * @module
 */
import { z } from 'zod';
import { booleanFlag, csv, int } from '@herald/config';
import { parseSecret, type SigningKey } from './signature.js';
import { parseWebhookTargets, type WebhookTarget } from './webhook-target.js';

export const eventsConfig = z.object({
  /** Track presence cluster-wide and publish lifecycle events (user.*, topic.*). */
  EVENTS: booleanFlag.default(false),
  /** Also publish connection.opened / connection.closed (one event per connection). */
  EVENTS_CONNECTIONS: booleanFlag.default(false),
  /** How long a user (topic) stays online (occupied) after its last connection is gone, ms. */
  OFFLINE_GRACE_MS: int(0, 3_600_000).default(5000),
  /** How long events stay on the events stream, ms (default 24 h; at least HERALD_WEBHOOK_RETRY_MS). */
  EVENTS_MAX_AGE_MS: int(60_000, 30 * 86_400_000).default(86_400_000),
  /** Webhook URLs, space- or comma-separated; `#user.*|topic.vacated` after a URL filters its types. */
  WEBHOOK_URLS: z.string().max(40_000).optional().superRefine((text, ctx) => {
    if (text === undefined) return;
    try {
      parseWebhookTargets(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  /** Signing secret(s), `whsec_<base64 of 24-64 bytes>`; several, space-separated, during a rotation. */
  WEBHOOK_SECRET: z.string().optional().superRefine((text, ctx) => {
    if (text === undefined) return;
    try {
      parseSecrets(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  /** How long an event is retried before it goes to the dead letters, ms after the event (default 6 h). */
  WEBHOOK_RETRY_MS: int(1000, 7 * 86_400_000).default(6 * 3_600_000),
  /** Timeout of one webhook request, ms. */
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Webhook requests in flight at once, per URL. */
  WEBHOOK_CONCURRENCY: int(1, 256).default(16),
  /** Events held per URL (queued, in flight, waiting to retry); beyond it the stream keeps them. */
  WEBHOOK_MAX_PENDING: int(1, 100_000).default(1000),
  /** Presence members (docs/events.md#presence-members): topic patterns whose members are tracked; unset: none. */
  PRESENCE_TOPICS: csv.superRefine((patterns, ctx) => {
    for (const p of patterns) if (!isTopicPatternText(p)) ctx.addIssue({ code: 'custom', message: `"${p.slice(0, 80)}" is not a topic pattern` });
  }).optional(),
  /** Distinct users per presence topic, cluster-wide; a new user beyond it gets `full`. */
  PRESENCE_MAX_MEMBERS: int(1, 2000).default(1000),
  /** How long a member stays after their last connection on a node left the topic, ms (a reconnect within it makes no leave/join). */
  PRESENCE_GRACE_MS: int(0, 600_000).default(3000),
  /** Join/leave batching window per topic, ms: at most one `presence` frame per topic per window per subscriber. */
  PRESENCE_BATCH_MS: int(10, 60_000).default(250),
  /** Each node re-announces its member lists this often, ms; a node silent for 3 periods is dropped (killed node). */
  PRESENCE_HEARTBEAT_MS: int(200, 60_000).default(2000),
});

/** A topic pattern (@herald/auth syntax): segments of `[A-Za-z0-9_-]{1,64}` or `*`, an optional final `>`. */
function isTopicPatternText(p: string): boolean {
  const segs = p.split('.');
  if (segs.length === 0 || segs.length > 16) return false;
  return segs.every((s, i) => s === '*' || (s === '>' && i === segs.length - 1) || /^[A-Za-z0-9_-]{1,64}$/.test(s));
}

export type EventsConfig = z.infer<typeof eventsConfig>;

/** Parses space-separated `whsec_` secrets. Throws without showing them. */
export function parseSecrets(text: string): SigningKey[] {
  const parts = text.split(/\s+/).filter((s) => s.length > 0);
  if (parts.length === 0 || parts.length > 4) throw new Error('one to four webhook secrets');
  return parts.map(parseSecret);
}

/** Problems across keys (a role's schema reports them with its own). */
export function eventsConfigIssues(config: EventsConfig): string[] {
  const issues: string[] = [];
  if (config.WEBHOOK_URLS !== undefined && config.WEBHOOK_SECRET === undefined) issues.push('HERALD_WEBHOOK_SECRET: required with HERALD_WEBHOOK_URLS (webhooks are always signed)');
  if (config.EVENTS_MAX_AGE_MS < config.WEBHOOK_RETRY_MS) issues.push('HERALD_EVENTS_MAX_AGE_MS: must be at least HERALD_WEBHOOK_RETRY_MS (an event must outlive its retries)');
  if (config.WEBHOOK_URLS !== undefined && !config.EVENTS) issues.push('HERALD_WEBHOOK_URLS: needs HERALD_EVENTS=true');
  return issues;
}

/** The webhook settings of a configuration; `undefined` when no URL is configured. */
export function webhookSettings(config: EventsConfig): { targets: WebhookTarget[]; keys: SigningKey[] } | undefined {
  if (config.WEBHOOK_URLS === undefined || config.WEBHOOK_SECRET === undefined) return undefined;
  return { targets: parseWebhookTargets(config.WEBHOOK_URLS), keys: parseSecrets(config.WEBHOOK_SECRET) };
}
