/** POST /v1/disconnect, GET /v1/presence, GET /v1/history: thin calls into the bus. */
import type { Bus, BusMessage, PresenceQuery } from '@herald/bus';
import { busFailureResult } from '../http/bus-failure.js';
import { failureResult, jsonResult, type HttpResult } from '../http/result.js';
import type { RequestContext, Route } from '../http/route.js';
import { parseDisconnect, parseHistoryQuery, parsePresenceQuery } from './validate.js';

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
        const r = await callBus(() => bus.presence(q.value), ctx, 'presence');
        return r.ok ? jsonResult(presenceBody(q.value, r.value)) : r.result;
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
