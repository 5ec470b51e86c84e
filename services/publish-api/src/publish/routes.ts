/** POST /v1/publish and /v1/publish/batch: validate, publish through the bus, answer with the stored seqs. */
import type { Bus, PublishResult } from '@herald/bus';
import { busFailureResult } from '../http/bus-failure.js';
import { failureResult, jsonResult, type HttpResult } from '../http/result.js';
import type { PublishMetrics } from '../metrics.js';
import { PublishFailure, countTargets, publishAll } from './publish-all.js';
import type { RequestContext, Route, RouteInput } from '../http/route.js';
import { parseBatch, parsePublish, type BatchLimits, type PublishCommand } from './validate.js';
import type { InboxStore } from '@herald/inbox';
import { publishWithInbox } from '../inbox/publish.js';

export interface PublishHandlerDeps {
  readonly bus: Bus;
  readonly limits: BatchLimits;
  /** Bus publishes in flight per request. */
  readonly concurrency: number;
  readonly metrics: PublishMetrics;
  /** The inbox store, for publishes with `inbox` (docs/inbox.md); absent (unit tests): such publishes go to the user channels. */
  readonly inbox?: () => Promise<InboxStore>;
}

/**
 * One entry of `results`: the channel and its seq. `duplicate: true` appears only when
 * the id was already seen for that channel within the dedupe window: nothing new was
 * stored or delivered, and `seq` is the one stored the first time.
 */
export interface ChannelResult {
  readonly ch: string;
  readonly seq: number;
  readonly duplicate?: true;
  /** Inbox results only: the message id (to retract it). */
  readonly id?: string;
}

function toChannelResult(r: PublishResult & { readonly id?: string }): ChannelResult {
  const base = r.duplicate ? { ch: r.channel, seq: r.seq, duplicate: true as const } : { ch: r.channel, seq: r.seq };
  return r.id === undefined ? base : { ...base, id: r.id };
}

async function run(deps: PublishHandlerDeps, route: string, commands: readonly PublishCommand[], ctx: RequestContext): Promise<ChannelResult[][] | HttpResult> {
  const started = performance.now();
  // The request id and trace context every message of this request carries to the gateways (none: no header work).
  const carried = ctx.busContext?.(commands.length);
  try {
    const grouped = deps.inbox !== undefined && commands.some((c) => c.inbox !== undefined)
      ? await publishWithInbox(deps.bus, deps.inbox, commands, deps.concurrency, carried?.trace)
      : await publishAll(deps.bus, commands, deps.concurrency, carried?.trace);
    carried?.end();
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.observeDuration(route, seconds);
    let duplicates = 0;
    for (const group of grouped) for (const r of group) if (r.duplicate) duplicates++;
    const targets = countTargets(commands);
    deps.metrics.countMessages('stored', targets - duplicates);
    if (duplicates > 0) deps.metrics.countMessages('duplicate', duplicates);
    // Counts only: never the data (it may be personal) and never the key. Debug: one line per
    // publish is an access log, too costly at info on a busy API (metrics count publishes).
    if (ctx.debug) ctx.log.debug({ route, messages: commands.length, targets, duplicates, ms: Math.round(seconds * 1000) }, 'published');
    return grouped.map((g) => g.map(toChannelResult));
  } catch (err) {
    carried?.end(err);
    const failure = err instanceof PublishFailure ? err : undefined;
    const cause = failure ? failure.cause : err;
    if (failure && failure.stored > 0) deps.metrics.countMessages('stored', failure.stored);
    return busFailureResult(cause, {
      stored: failure?.stored ?? 0,
      total: failure?.total ?? countTargets(commands),
      allHaveIds: commands.every((c) => c.id !== undefined),
    });
  }
}

/**
 * The publish routes. `POST /v1/publish` answers `{"results":[{"ch","seq"}...]}`, one
 * entry per distinct target, in request order. `POST /v1/publish/batch` answers
 * `{"results":[{"results":[...]}, ...]}`: entry i is exactly what `/v1/publish` would
 * have answered for message i. Both answer only once the bus acknowledged every publish.
 */
export function publishRoutes(deps: PublishHandlerDeps): Route[] {
  return [
    {
      path: '/v1/publish',
      method: 'POST',
      name: 'publish',
      handle: async ({ body }: RouteInput, ctx: RequestContext): Promise<HttpResult> => {
        const cmd = parsePublish(body, deps.limits);
        if (!cmd.ok) return failureResult(cmd);
        const out = await run(deps, 'publish', [cmd.value], ctx);
        return Array.isArray(out) ? jsonResult({ results: out[0] }) : out;
      },
    },
    {
      path: '/v1/publish/batch',
      method: 'POST',
      name: 'batch',
      handle: async ({ body }: RouteInput, ctx: RequestContext): Promise<HttpResult> => {
        const cmds = parseBatch(body, deps.limits);
        if (!cmds.ok) return failureResult(cmds);
        const out = await run(deps, 'batch', cmds.value, ctx);
        return Array.isArray(out) ? jsonResult({ results: out.map((results) => ({ results })) }) : out;
      },
    },
  ];
}
