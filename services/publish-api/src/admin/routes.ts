/** POST /v1/disconnect, GET /v1/presence, GET /v1/history: thin calls into the bus. */
import type { Bus, BusMessage, MemberState, PresenceQuery } from '@herald/bus';
import { busFailureResult } from '../http/bus-failure.js';
import { failureResult, jsonResult, type HttpResult } from '../http/result.js';
import type { RequestContext, Route } from '../http/route.js';
import { parseDisconnect, parseHistoryQuery, parsePresenceQuery, type PresenceCommand } from './validate.js';

/** A history entry as served: a `msg` frame without `op`, `data` as a JSON value. */
export interface HistoryEntry {
  readonly ch: string;
  readonly seq: number;
  readonly prev: number;
  readonly ts: number;
  readonly data: unknown;
  readonly id?: string;
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Only a backend publishing straight to `herald.in.>` can store non-JSON; serve it
    // as a string rather than fail the whole page.
    return text;
  }
}

/** Converts a stored message to its history entry. */
export function toHistoryEntry(m: BusMessage): HistoryEntry {
  const base = { ch: m.channel, seq: m.seq, prev: m.prev, ts: m.ts, data: parseData(m.data) };
  return m.id === undefined ? base : { ...base, id: m.id };
}

async function callBus<T>(call: () => Promise<T>, ctx: RequestContext, what: string): Promise<{ ok: true; value: T } | { ok: false; result: HttpResult }> {
  try {
    return { ok: true, value: await call() };
  } catch (err) {
    const result = busFailureResult(err);
    if (result.status >= 500) ctx.log.warn({ err, what }, 'bus call failed');
    return { ok: false, result };
  }
}

function presenceBody(q: PresenceQuery, n: number): Record<string, string | number> {
  return 'user' in q ? { user: q.user, connections: n } : { topic: q.topic, subscribers: n };
}

/** One member as served. */
export interface MemberEntryBody {
  readonly user: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * A page of the members of a topic from every node's list: each user once (the info of the first
 * node in id order that lists them), sorted by user id (UTF-16 order), after `cursor`.
 */
export function memberPage(states: readonly MemberState[], page: NonNullable<PresenceCommand['members']>): { count: number; members: MemberEntryBody[]; next?: string } {
  const merged = new Map<string, MemberEntryBody>();
  for (const s of [...states].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))) {
    for (const m of s.members) if (!merged.has(m.user)) merged.set(m.user, m.info === undefined ? { user: m.user } : { user: m.user, info: m.info });
  }
  const users = [...merged.keys()].sort();
  const from = page.cursor === undefined ? 0 : users.findIndex((u) => u > (page.cursor as string));
  const slice = from < 0 ? [] : users.slice(from, from + page.limit);
  const more = from >= 0 && from + page.limit < users.length;
  const members = slice.map((u) => merged.get(u) as MemberEntryBody);
  return { count: users.length, members, ...(more ? { next: slice[slice.length - 1] as string } : {}) };
}

/** The admin routes; each answers 503 `bus_unavailable` when the bus fails. */
export function adminRoutes(bus: Bus): Route[] {
  return [
    {
      path: '/v1/disconnect',
      method: 'POST',
      name: 'disconnect',
      handle: async ({ body }, ctx) => {
        const cmd = parseDisconnect(body);
        if (!cmd.ok) return failureResult(cmd);
        const { user, code, reason } = cmd.value;
        const r = await callBus(() => bus.disconnect(user, code, reason), ctx, 'disconnect');
        if (!r.ok) return r.result;
        ctx.log.info({ code, disconnected: r.value }, 'disconnected');
        return jsonResult({ disconnected: r.value });
      },
    },
    {
      path: '/v1/presence',
      method: 'GET',
      name: 'presence',
      handle: async ({ query }, ctx) => {
        const q = parsePresenceQuery(query);
        if (!q.ok) return failureResult(q);
        const pq: PresenceQuery = 'user' in q.value ? { user: q.value.user } : { topic: q.value.topic };
        const r = await callBus(() => bus.presence(pq), ctx, 'presence');
        if (!r.ok) return r.result;
        const page = q.value.members;
        if (page === undefined || !('topic' in pq)) return jsonResult(presenceBody(pq, r.value));
        const topic = pq.topic;
        const m = await callBus(() => bus.members.query(topic), ctx, 'presence members');
        if (!m.ok) return m.result;
        const { count, members, next } = memberPage(m.value, page);
        return jsonResult({ ...presenceBody(pq, r.value), memberCount: count, members, ...(next === undefined ? {} : { next }) });
      },
    },
    {
      path: '/v1/history',
      method: 'GET',
      name: 'history',
      handle: async ({ query }, ctx) => {
        const q = parseHistoryQuery(query);
        if (!q.ok) return failureResult(q);
        const { channel, since, limit } = q.value;
        const r = await callBus(() => bus.history(channel, { since, limit }), ctx, 'history');
        if (!r.ok) return r.result;
        const page = r.value;
        return jsonResult({ epoch: page.epoch, complete: page.complete, truncated: page.truncated, messages: page.messages.map(toHistoryEntry) });
      },
    },
  ];
}
