/** Reading untrusted JSON input: object checks, unknown fields, and short quotes of client values in error messages. */
import type { z } from 'zod';
import { fail, type Failure } from './result.js';

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

/** The answer to a body with a field its schema does not know: the first one, in the body's own key order. */
export function unknownFieldFailure(issues: readonly z.core.$ZodIssue[]): Failure | undefined {
  for (const i of issues) if (i.code === 'unrecognized_keys' && i.path.length === 0) return fail('invalid_body', `unknown field ${preview(i.keys[0])}`);
  return undefined;
}
