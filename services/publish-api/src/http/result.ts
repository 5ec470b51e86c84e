/** What a handler answers, independent of uWS: a status, a JSON body and extra headers. */
import { HTTP_STATUS_BY_ERROR, type HttpErrorCode } from '@herald/protocol';

export type HeaderPairs = readonly (readonly [string, string])[];

/** A complete HTTP answer; `server.ts` writes it. */
export interface HttpResult {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: HeaderPairs;
  /** The wire error code when this is an error answer (for logs and metrics). */
  readonly code?: HttpErrorCode;
  /** Close the connection after answering (an oversized body is not read to its end). */
  readonly close?: boolean;
}

/** An expected failure: the wire code and a message for the client. */
export interface Failure {
  readonly ok: false;
  readonly code: HttpErrorCode;
  readonly message: string;
  /** Index of the offending message in a batch. */
  readonly index?: number;
}

/** The result of a validation: a value, or a failure with its wire code. */
export type Check<T> = { readonly ok: true; readonly value: T } | Failure;

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function fail(code: HttpErrorCode, message: string): Failure {
  return { ok: false, code, message };
}

/** `200` with a JSON body. */
export function jsonResult(body: unknown, status = 200): HttpResult {
  return { status, body };
}

/**
 * The contract's error answer `{"error":{"code","message"}}`, status from the shared
 * table. A batch failure also carries `index` (the first bad message) inside `error`.
 */
export function errorResult(code: HttpErrorCode, message: string, extra: { headers?: HeaderPairs; index?: number; close?: boolean } = {}): HttpResult {
  const error = extra.index === undefined ? { code, message } : { code, message, index: extra.index };
  return {
    status: HTTP_STATUS_BY_ERROR[code],
    body: { error },
    code,
    ...(extra.headers ? { headers: extra.headers } : {}),
    ...(extra.close ? { close: true } : {}),
  };
}

/** An error answer from a failed validation. */
export function failureResult(f: Failure): HttpResult {
  return errorResult(f.code, f.message, f.index === undefined ? {} : { index: f.index });
}
