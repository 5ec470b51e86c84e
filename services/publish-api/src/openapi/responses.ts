/**
 * The answers of the publish API as zod schemas, for the OpenAPI document only (handlers build
 * their answers directly). The integration suite validates every real answer against the
 * document, so a handler that changes its answer without this file fails the suite.
 */
import { z } from 'zod';
import { HTTP_STATUS_BY_ERROR, type HttpErrorCode } from '@herald/protocol';

const Seq = z.number().int().min(0);

/** One channel written by a publish; `duplicate` only when the id was already stored there. */
export const ChannelResult = z.strictObject({ ch: z.string(), seq: Seq, duplicate: z.literal(true).optional(), id: z.string().optional() });
export const PublishAnswer = z.strictObject({ results: z.array(ChannelResult) });
export const BatchAnswer = z.strictObject({ results: z.array(PublishAnswer) });
export const DisconnectAnswer = z.strictObject({ disconnected: z.number().int().min(0) });
export const PresenceAnswer = z.union([
  z.strictObject({ user: z.string(), connections: z.number().int().min(0) }),
  z.strictObject({
    topic: z.string(),
    subscribers: z.number().int().min(0),
    /** With `members=true`: distinct members across nodes, one page of them, and the cursor of the next page. */
    memberCount: z.number().int().min(0).optional(),
    members: z.array(z.strictObject({ user: z.string(), info: z.record(z.string(), z.unknown()).optional() })).optional(),
    next: z.string().optional(),
  }),
]);

const HistoryEntry = z.strictObject({ ch: z.string(), seq: Seq, prev: Seq, ts: z.number().int(), data: z.unknown(), id: z.string().optional() });
export const HistoryAnswer = z.strictObject({ epoch: z.string(), complete: z.boolean(), truncated: z.boolean(), messages: z.array(HistoryEntry) });

/** The wire codes answered with `status` (from the shared status table). */
export function codesOf(status: number): HttpErrorCode[] {
  return (Object.keys(HTTP_STATUS_BY_ERROR) as HttpErrorCode[]).filter((c) => HTTP_STATUS_BY_ERROR[c] === status);
}

/** `{"error":{"code","message","index"?}}` with one of `codes`: `index` is the first bad message of a batch. */
export function errorAnswer(codes: readonly HttpErrorCode[]) {
  return z.strictObject({
    error: z.strictObject({ code: z.enum(codes as [HttpErrorCode, ...HttpErrorCode[]]), message: z.string(), index: z.number().int().min(0).optional() }),
  });
}
