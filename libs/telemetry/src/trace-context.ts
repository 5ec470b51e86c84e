/**
 * Request ids and W3C Trace Context (https://www.w3.org/TR/trace-context/): strict parsing of
 * untrusted `x-request-id`, `traceparent` and `tracestate` values. Anything that fails is
 * treated as absent, never repaired, so a value that reaches a log line or a NATS header is
 * bounded, printable ASCII without CR or LF.
 * @module
 */

/** Longest `x-request-id` taken from a client; a longer one is replaced by a generated id. */
export const MAX_REQUEST_ID_CHARS = 128;
/**
 * Longest `tracestate` carried. The spec allows 32 list members and asks that at least 512
 * characters be propagated; a longer value is dropped whole (the spec allows dropping it).
 */
export const MAX_TRACESTATE_CHARS = 512;

/** The parts of a valid `traceparent`. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span: 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The trace-flags byte (bit 0: sampled). */
  readonly flags: number;
}

/** True for 1 to MAX_REQUEST_ID_CHARS visible ASCII characters (0x21-0x7e: no space, no control, no CR/LF). */
export function isValidRequestId(value: string): boolean {
  const n = value.length;
  if (n === 0 || n > MAX_REQUEST_ID_CHARS) return false;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** `n` lowercase hex digits from `from`, and not all of them zero. */
function hexNotZero(s: string, from: number, n: number): boolean {
  let nonZero = false;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39;
    if (!digit && !(c >= 0x61 && c <= 0x66)) return false;
    if (c !== 0x30) nonZero = true;
  }
  return nonZero;
}

function isHex(s: string, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** Length of `version-traceid-parentid-flags`. */
const TRACEPARENT_CHARS = 55;

/**
 * Parses a `traceparent` header: `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, lowercase,
 * neither id all zeros. Version `ff` is invalid; a later version is read by its version-00 prefix and
 * may carry more fields after a `-` (the spec's forward compatibility); version 00 must be exactly
 * 55 characters. Undefined when invalid.
 */
export function parseTraceparent(value: string): TraceParent | undefined {
  const n = value.length;
  if (n < TRACEPARENT_CHARS || n > 256) return undefined;
  if (!isHex(value, 0, 2) || value.charCodeAt(2) !== 0x2d || value.charCodeAt(35) !== 0x2d || value.charCodeAt(52) !== 0x2d) return undefined;
  const version = value.slice(0, 2);
  if (version === 'ff') return undefined;
  if (version === '00' ? n !== TRACEPARENT_CHARS : n > TRACEPARENT_CHARS && value.charCodeAt(TRACEPARENT_CHARS) !== 0x2d) return undefined;
  if (!hexNotZero(value, 3, 32) || !hexNotZero(value, 36, 16) || !isHex(value, 53, 2)) return undefined;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), flags: parseInt(value.slice(53, 55), 16) };
}

/** The version-00 `traceparent` of a span context. */
export function formatTraceparent(p: TraceParent): string {
  return `00-${p.traceId}-${p.spanId}-${(p.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * A `tracestate` worth carrying: at most MAX_TRACESTATE_CHARS printable ASCII characters (the
 * spec's key and value alphabets are within it), undefined otherwise or when empty. The list is
 * passed on as received, not parsed: Herald adds no entry of its own.
 */
export function boundedTracestate(value: string): string | undefined {
  const n = value.length;
  if (n === 0 || n > MAX_TRACESTATE_CHARS) return undefined;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return undefined;
  }
  return value.trim() === '' ? undefined : value;
}
