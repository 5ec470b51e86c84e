/**
 * The inbox routes (docs/publish-api.md#inbox): `GET /v1/users/{id}/inbox`,
 * `DELETE /v1/users/{id}/inbox/{msgId}` (API key), `POST /v1/push-subscriptions` (user
 * token) and `GET /v1/push/vapid-public-key` (open).
 */
import { isValidUserId } from '@herald/protocol';
import { MAX_PAGE, type InboxEntry } from '@herald/inbox';
import { errorResult, jsonResult } from '../http/result.js';
import type { Route, RouteInput } from '../http/route.js';
import { InboxListQuery } from './schemas.js';
import type { InboxService } from './service.js';
import { inboxFailure } from './failure.js';
import { pushRoutes, type PushRouteOptions } from './push.js';

/** A URL-encoded path segment, decoded; `undefined` when it is not valid percent-encoding. */
export function decodeSegment(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function entryOf(m: InboxEntry): Record<string, unknown> {
  return { seq: m.seq, id: m.id, ts: m.ts, ...(m.exp === undefined ? {} : { exp: m.exp }), state: m.state, data: parseData(m.data) };
}

function userOf(input: RouteInput): string | undefined {
  const user = decodeSegment(input.params?.[0]);
  return user !== undefined && isValidUserId(user) ? user : undefined;
}

const BAD_USER = errorResult('invalid_target', 'the path must name a user id (URL-encoded, 1 to 256 bytes of UTF-8 without control characters)');

export function inboxRoutes(service: InboxService, push: PushRouteOptions): Route[] {
  return [
    {
      path: '/v1/users/:id/inbox',
      method: 'GET',
      name: 'inbox_list',
      params: 1,
      handle: async (input, ctx) => {
        const user = userOf(input);
        if (user === undefined) return BAD_USER;
        const q = InboxListQuery.safeParse(Object.fromEntries(input.query));
        if (!q.success) return errorResult('invalid_query', `query takes after (seq), limit (1 to ${MAX_PAGE}) and state (pending, delivered, read)`);
        const limit = q.data.limit === undefined ? 100 : Number(q.data.limit);
        if (limit < 1 || limit > MAX_PAGE) return errorResult('invalid_query', `limit must be 1 to ${MAX_PAGE}`);
        try {
          const store = await service.store();
          const listing = await store.list(user, { after: q.data.after === undefined ? 0 : Number(q.data.after), limit, ...(q.data.state ? { state: q.data.state } : {}) });
          return jsonResult({
            user, delivered: listing.delivered, read: listing.read, messages: listing.messages.map(entryOf), ...(listing.next === undefined ? {} : { next: listing.next }),
          });
        } catch (err) {
          return inboxFailure(err, ctx);
        }
      },
    },
    {
      path: '/v1/users/:id/inbox/:msgId',
      method: 'DELETE',
      name: 'inbox_delete',
      params: 2,
      handle: async (input, ctx) => {
        const user = userOf(input);
        if (user === undefined) return BAD_USER;
        const id = decodeSegment(input.params?.[1]);
        if (id === undefined || !/^[\x21-\x7e]{1,64}$/.test(id)) return errorResult('invalid_id', 'the path must name a message id (1 to 64 visible ASCII characters, URL-encoded)');
        try {
          const deleted = await (await service.store()).retract(user, id);
          return deleted ? jsonResult({ deleted: true }) : errorResult('not_found', 'the inbox holds no message with this id');
        } catch (err) {
          return inboxFailure(err, ctx);
        }
      },
    },
    ...pushRoutes(service, push),
  ];
}
