/**
 * The gateway's endpoints from its base URL: `http(s)://` or `ws(s)://`, with or without a
 * path prefix, with or without `/v1/ws` or `/v1/sse` already at the end.
 * @module
 */

/** @internal */
export interface Endpoints {
  readonly ws: string;
  readonly sse: string;
}

/** @internal Relative URLs resolve against the page's location in a browser. */
export function endpoints(url: string): Endpoints {
  const here = (globalThis as { location?: { href?: string } }).location?.href;
  const u = new URL(url, here);
  // `s` for https: and wss: (not ws:, which ends in s: too)
  const s = /[ps]s/.test(u.protocol) ? 's' : '';
  const path = u.pathname.replace(/\/+$/, '').replace(/\/v1\/(ws|sse)$/, '');
  return {
    ws: `ws${s}://${u.host}${path}/v1/ws`,
    sse: `http${s}://${u.host}${path}/v1/sse`,
  };
}
