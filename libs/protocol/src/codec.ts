/**
 * Decoding of client frames (untrusted input) and encoding of server frames.
 * Decoding never throws: expected failures come back as a `DecodeResult` that says
 * which answer the contract gives (close code or `err` reply).
 * @module
 */
import { isValidChannel, utf8ByteLength } from './channels.js';
import { CloseCode } from './close-codes.js';
import type { FrameErrorCode } from './errors.js';
import { MAX_RECEIPT_SEQS, type ClientFrame, type FrameId, type ServerFrame, type SinceMap } from './frames.js';

/** Default inbound frame limit (docs/protocol.md#bad-input). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024;
/** At most this many topics in one `sub` or `unsub` frame. */
export const MAX_TOPICS_PER_FRAME = 100;
/** A string frame id is at most this long. */
export const MAX_FRAME_ID_CHARS = 64;
/** An `epoch` is at most this long. */
export const MAX_EPOCH_CHARS = 128;
/** A token in an `auth` frame is at most this long (the frame limit bounds it too). */
export const MAX_TOKEN_CHARS = 8 * 1024;

export interface DecodeLimits {
  readonly maxFrameBytes: number;
}

/** Failure that closes the connection with `closeCode`. */
export interface FatalDecodeFailure {
  readonly ok: false;
  readonly fatal: true;
  readonly closeCode: 1003 | 1007 | 1009;
  readonly message: string;
}
/** Failure answered with an `err` frame; the connection stays. */
export interface RecoverableDecodeFailure {
  readonly ok: false;
  readonly fatal: false;
  readonly id?: FrameId;
  readonly code: FrameErrorCode;
  readonly message: string;
}
export type DecodeResult =
  | { readonly ok: true; readonly frame: ClientFrame }
  | FatalDecodeFailure
  | RecoverableDecodeFailure;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fatal(closeCode: 1003 | 1007 | 1009, message: string): FatalDecodeFailure {
  return { ok: false, fatal: true, closeCode, message };
}

function bad(code: FrameErrorCode, message: string, id?: FrameId): RecoverableDecodeFailure {
  return id === undefined ? { ok: false, fatal: false, code, message } : { ok: false, fatal: false, id, code, message };
}

function isFrameId(v: unknown): v is FrameId {
  return (typeof v === 'string' && v.length > 0 && v.length <= MAX_FRAME_ID_CHARS) || (typeof v === 'number' && Number.isSafeInteger(v));
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Decodes one inbound WebSocket message. `data` may be a uWS ArrayBuffer that is
 * only valid during the callback: this function copies what it keeps.
 */
export function decodeClientFrame(data: ArrayBuffer | Uint8Array | string, isBinary: boolean, limits: DecodeLimits): DecodeResult {
  if (isBinary) return fatal(CloseCode.UnsupportedData, 'binary frames are not accepted');
  const size = typeof data === 'string' ? utf8ByteLength(data) : data.byteLength;
  if (size > limits.maxFrameBytes) return fatal(CloseCode.MessageTooBig, 'frame too large');
  let text: string;
  if (typeof data === 'string') text = data;
  else {
    try {
      text = utf8.decode(data);
    } catch {
      return fatal(CloseCode.InvalidPayload, 'frame is not valid UTF-8');
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fatal(CloseCode.InvalidPayload, 'frame is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fatal(CloseCode.InvalidPayload, 'frame is not a JSON object');
  }
  return validateClientFrame(value as Record<string, unknown>);
}

/** Validates a parsed JSON object as a client frame. */
export function validateClientFrame(o: Record<string, unknown>): DecodeResult {
  const id = isFrameId(o['id']) ? o['id'] : undefined;
  const op = o['op'];
  if (typeof op !== 'string') return bad('invalid', 'missing op', id);
  if (id === undefined) return bad('invalid', 'missing or invalid id (a string of 1 to 64 characters or an integer)');
  switch (op) {
    case 'ping':
      return { ok: true, frame: { op, id } };
    case 'auth': {
      const token = o['token'];
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) return bad('invalid', 'token must be a non-empty string', id);
      return { ok: true, frame: { op, id, token } };
    }
    case 'unsub': {
      const topics = readTopics(o['topics'], false);
      if (typeof topics === 'string') return bad('invalid', topics, id);
      return { ok: true, frame: { op, id, topics } };
    }
    case 'sub': {
      const topics = readTopics(o['topics'], true);
      if (typeof topics === 'string') return bad(topics.startsWith('at most') ? 'limit' : 'invalid', topics, id);
      const since = readSince(o['since']);
      if (typeof since === 'string') return bad('invalid', since, id);
      const epoch = o['epoch'];
      if (epoch !== undefined && (typeof epoch !== 'string' || epoch.length > MAX_EPOCH_CHARS)) return bad('invalid', 'epoch must be a string', id);
      const presence = o['presence'];
      if (presence !== undefined && (!Array.isArray(presence) || presence.length > MAX_TOPICS_PER_FRAME || !presence.every((p) => typeof p === 'string'))) {
        return bad('invalid', 'presence must be an array of topic names', id);
      }
      const frame = { op, id, topics, ...(since ? { since } : {}), ...(epoch !== undefined ? { epoch } : {}), ...(presence && presence.length > 0 ? { presence: presence as string[] } : {}) } as const;
      return { ok: true, frame };
    }
    case 'receipt':
      return readReceipt(o, id);
    default:
      return bad('unknown_op', 'unknown op', id);
  }
}

/** A `receipt` frame: `status`, and exactly one of `upTo` (positive seq) or `seqs` (1 to MAX_RECEIPT_SEQS positive seqs). */
function readReceipt(o: Record<string, unknown>, id: FrameId): DecodeResult {
  const status = o['status'];
  if (status !== 'delivered' && status !== 'read') return bad('invalid', 'status must be "delivered" or "read"', id);
  const upTo = o['upTo'];
  const seqs = o['seqs'];
  if ((upTo === undefined) === (seqs === undefined)) return bad('invalid', 'give exactly one of upTo and seqs', id);
  if (upTo !== undefined) {
    if (!isSeq(upTo) || upTo === 0) return bad('invalid', 'upTo must be a positive integer', id);
    return { ok: true, frame: { op: 'receipt', id, status, upTo } };
  }
  if (!Array.isArray(seqs) || seqs.length === 0) return bad('invalid', 'seqs must be a non-empty array', id);
  if (seqs.length > MAX_RECEIPT_SEQS) return bad('limit', `at most ${MAX_RECEIPT_SEQS} seqs`, id);
  if (!seqs.every((s) => isSeq(s) && s > 0)) return bad('invalid', 'seqs must be positive integers', id);
  return { ok: true, frame: { op: 'receipt', id, status, seqs: [...(seqs as number[])] } };
}

/**
 * Reads a `topics` array. Individual names are not validated here: a bad name gets
 * `invalid` in its own result, so one bad topic does not fail the whole frame.
 */
function readTopics(v: unknown, allowEmpty: boolean): readonly string[] | string {
  if (!Array.isArray(v)) return 'topics must be an array of strings';
  if (v.length > MAX_TOPICS_PER_FRAME) return `at most ${MAX_TOPICS_PER_FRAME} topics per frame`;
  if (!allowEmpty && v.length === 0) return 'topics must not be empty';
  for (const t of v) if (typeof t !== 'string' || t.length > 256) return 'topics must be an array of strings';
  return v as string[];
}

function readSince(v: unknown): SinceMap | undefined | string {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'since must be an object of channel to seq';
  const entries = Object.entries(v);
  if (entries.length > MAX_TOPICS_PER_FRAME + 1) return 'since names too many channels';
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [ch, seq] of entries) {
    if (!isValidChannel(ch)) return 'since has an invalid channel';
    if (!isSeq(seq)) return 'since values must be non-negative integers';
    out[ch] = seq;
  }
  return out;
}

/** Encodes any server frame. For `msg` on the fan-out path, prefer `encodeMsgFrame`. */
export function encodeServerFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/**
 * Encodes a `msg` frame around data that is already JSON text, so the fan-out path
 * never parses and re-serializes a payload. `dataJson` must be valid JSON (the
 * publish API validated it before it was stored). `conflated` adds `"conflated":true`
 * (the messages between the client's last one and this one were skipped on purpose).
 */
export function encodeMsgFrame(ch: string, seq: number, prev: number, dataJson: string, ts: number, id?: string, conflated = false): string {
  const idPart = id === undefined ? '' : ',"id":' + JSON.stringify(id);
  const flag = conflated ? ',"conflated":true' : '';
  return '{"op":"msg","ch":' + JSON.stringify(ch) + ',"seq":' + seq + ',"prev":' + prev + flag + ',"ts":' + ts + idPart + ',"data":' + dataJson + '}';
}

/** Decodes a server frame (for clients and tests). Returns undefined on anything that is not a frame. */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && typeof (v as { op?: unknown }).op === 'string') return v as ServerFrame;
  } catch {
    /* not JSON */
  }
  return undefined;
}

