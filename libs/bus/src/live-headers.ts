/**
 * The headers a gateway reads from every republished message, read straight from the
 * header block's bytes. The NATS client's `msg.headers` decodes every header of the message
 * (about eight here: JetStream adds its own) into a map of arrays, validating and
 * canonicalizing each key: measured at about a third of the JavaScript a gateway runs per
 * live message. Here: one string of the block and five `indexOf` (two more when the message
 * carries a request context).
 *
 * The header block's bytes are not part of the client's public API: `rawHeaderBlock` reads
 * them where @nats-io/nats-core 3.x keeps them and returns undefined when they are not there,
 * and the caller then uses `msg.headers` (same answers, slower). A unit test checks on real
 * messages that both agree and that the fast path is taken with the installed client.
 * @module
 */
import type { Msg } from '@nats-io/transport-node';
import type { MessageTrace } from './bus.js';

/** The header values decodeLive reads; undefined when absent. */
export interface LiveHeaders {
  readonly seq: string | undefined;
  readonly lastSeq: string | undefined;
  readonly ts: string | undefined;
  readonly id: string | undefined;
  /** The publish request's context (docs/operations.md#request-ids-and-trace-context); undefined when it had none. */
  readonly trace: MessageTrace | undefined;
}

/**
 * The request context of a message. A publisher that sends any of them always sends
 * `Herald-Request-Id`, so a message without it costs the gateway one `indexOf` and no more.
 * `traceparent` and `tracestate` keep their W3C names: other NATS consumers of the stream
 * (and OpenTelemetry's NATS conventions) read them as they are.
 */
export const HDR_REQUEST_ID = 'Herald-Request-Id';
export const HDR_TRACEPARENT = 'traceparent';
export const HDR_TRACESTATE = 'tracestate';

/**
 * Adds the trace headers of `trace` to a fresh header map (the publisher; values were validated: no CR/LF).
 * `append`, not `set`: the names are not in the map yet, and `set` first searches every key to delete it.
 */
export function setTraceHeaders(h: { append(k: string, v: string): void }, trace: MessageTrace): void {
  h.append(HDR_REQUEST_ID, trace.reqId);
  if (trace.traceparent !== undefined) h.append(HDR_TRACEPARENT, trace.traceparent);
  if (trace.tracestate !== undefined) h.append(HDR_TRACESTATE, trace.tracestate);
}

/** True when a value of `trace` holds CR or LF (it would end its header line). */
export function traceHasLineBreak(trace: MessageTrace): boolean {
  const lb = /[\r\n]/;
  return lb.test(trace.reqId) || (trace.traceparent !== undefined && lb.test(trace.traceparent)) || (trace.tracestate !== undefined && lb.test(trace.tracestate));
}

function traceOf(reqId: string, traceparent: string | undefined, tracestate: string | undefined): MessageTrace {
  if (traceparent === undefined) return { reqId };
  return tracestate === undefined ? { reqId, traceparent } : { reqId, traceparent, tracestate };
}

/** The request context in a header block (hot path: one `indexOf` when there is none). */
function blockTrace(block: string): MessageTrace | undefined {
  const reqId = headerValue(block, HDR_REQUEST_ID);
  if (reqId === undefined || reqId === '') return undefined;
  const traceparent = headerValue(block, HDR_TRACEPARENT);
  return traceOf(reqId, traceparent, traceparent === undefined ? undefined : headerValue(block, HDR_TRACESTATE));
}

/** Where nats-core 3.x's MsgImpl keeps the raw message: the payload with headers first, and the header length. */
interface MsgInternals {
  readonly _rdata?: unknown;
  readonly _msg?: { readonly hdr?: unknown };
}

/** The header block (`NATS/1.0…\r\n\r\n`) as text, or undefined when the client keeps it elsewhere or there is none. */
export function rawHeaderBlock(msg: Msg): string | undefined {
  const m = msg as unknown as MsgInternals;
  const hdr = m._msg?.hdr;
  const raw = m._rdata;
  if (typeof hdr !== 'number' || hdr <= 0 || !(raw instanceof Uint8Array) || hdr > raw.length) return undefined;
  return Buffer.from(raw.buffer, raw.byteOffset, hdr).toString('utf8');
}

/**
 * The first value of header `key` (exact, case-sensitive name, like `MsgHdrs.get`), trimmed;
 * undefined when absent. A header line starts after `\r\n` (values cannot hold CR or LF),
 * so a match is never inside a value.
 */
export function headerValue(block: string, key: string): string | undefined {
  const at = block.indexOf(needleOf(key));
  if (at < 0) return undefined;
  const start = at + key.length + 3;
  const found = block.indexOf('\r\n', start);
  const end = found < 0 ? block.length : found;
  // The client writes `Key: value`: past one space, a value with no space, tab or non-ASCII
  // character at either end is already trimmed, so one slice (no second string from trim).
  const from = block.charCodeAt(start) === 32 ? start + 1 : start;
  if (end > from && isPlainAscii(block.charCodeAt(from)) && isPlainAscii(block.charCodeAt(end - 1))) return block.slice(from, end);
  return block.slice(start, end).trim();
}

const isPlainAscii = (c: number): boolean => c > 32 && c < 127;

/** `\r\n<key>:` per header name, built once (a handful of names), not per message. */
const NEEDLES = new Map<string, string>();
const MAX_NEEDLES = 64;

function needleOf(key: string): string {
  let needle = NEEDLES.get(key);
  if (needle === undefined) {
    needle = '\r\n' + key + ':';
    if (NEEDLES.size < MAX_NEEDLES) NEEDLES.set(key, needle);
  }
  return needle;
}

/** The live headers of `msg`, from its raw block when reachable, else through `msg.headers`. */
export function liveHeaders(msg: Msg, names: { seq: string; lastSeq: string; ts: string; id: string }): LiveHeaders | undefined {
  const block = rawHeaderBlock(msg);
  if (block !== undefined) {
    return {
      seq: headerValue(block, names.seq), lastSeq: headerValue(block, names.lastSeq), ts: headerValue(block, names.ts), id: headerValue(block, names.id),
      trace: blockTrace(block),
    };
  }
  const h = msg.headers;
  if (!h) return undefined;
  const get = (k: string): string | undefined => (h.has(k) ? h.get(k) : undefined);
  const reqId = get(HDR_REQUEST_ID);
  const trace = reqId === undefined || reqId === '' ? undefined : traceOf(reqId, get(HDR_TRACEPARENT), get(HDR_TRACESTATE));
  return { seq: get(names.seq), lastSeq: get(names.lastSeq), ts: get(names.ts), id: get(names.id), trace };
}
