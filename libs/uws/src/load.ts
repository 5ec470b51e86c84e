/**
 * Loads uWebSockets.js and refuses to run on the package's JavaScript fallback.
 * The npm alias `uWebSockets.js` may point at a build that silently falls back to a
 * slow shim when its native binary does not load; a push gateway on the shim would
 * look healthy and be an order of magnitude slower, so we fail at start-up instead.
 * @module
 */
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';

export type UwsModule = typeof Uws;

export class UwsUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UwsUnavailableError';
  }
}

let cached: UwsModule | undefined;

/** True when the module's App is the native binding, not the JavaScript shim. */
export function isNativeUws(mod: { App: unknown }): boolean {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]');
}

/** The native uWS module; throws UwsUnavailableError when only the fallback loads. */
export function loadUws(): UwsModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let mod: UwsModule;
  try {
    mod = require('uWebSockets.js') as UwsModule;
  } catch (err) {
    throw new UwsUnavailableError('uWebSockets.js could not be loaded', { cause: err });
  }
  if (!isNativeUws(mod)) {
    throw new UwsUnavailableError(
      `uWebSockets.js loaded its JavaScript fallback instead of the native binary (platform ${process.platform}-${process.arch}, ABI ${process.versions.modules}); refusing to run`,
    );
  }
  cached = mod;
  return mod;
}
