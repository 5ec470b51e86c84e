/** Reading untrusted JSON input: object checks, unknown fields, and short quotes of client values in error messages. */

/** Longest rendering of a client's value quoted back in an error message. */
const PREVIEW_CHARS = 80;

/** A short, safe rendering of a client-supplied value for an error message. */
export function preview(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value);
  } catch {
    // JSON.parse accepts nesting that JSON.stringify overflows the stack on.
    text = Array.isArray(value) ? '[...]' : '{...}';
  }
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}...` : text;
}

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** First own key of `body` that is not in `allowed`. */
export function unknownField(body: Record<string, unknown>, allowed: ReadonlySet<string>): string | undefined {
  return Object.keys(body).find((k) => !allowed.has(k));
}
