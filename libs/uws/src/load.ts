/**
 * Loads the newest uWebSockets.js build that works on this machine, and refuses to run
 * on a JavaScript fallback.
 *
 * Two builds are pinned (docs/operations.md#supported-platforms says why):
 * - `uws-20-57`: upstream v20.57.0 (repackaged as @btc-vision/uwebsockets.js), binaries
 *   for Node 20, 22, 24 and 25, linked against glibc 2.38 or newer;
 * - `uws-20-30`: v20.30 (@trufflesuite/uws-js-unofficial), Node 20 only, but it loads on
 *   an older glibc (Debian 12's 2.36), and falls back to a slow JavaScript shim elsewhere.
 * A push gateway on a shim would look healthy and be an order of magnitude slower, so a
 * build counts only when its `App` is native code.
 * @module
 */
import { createRequire } from 'node:module';
import type * as Uws from 'uws-20-57';

export type UwsModule = typeof Uws;

/** One pinned build, newest first in {@link UWS_BUILDS}. */
export interface UwsBuild {
  /** The npm alias it is installed under. */
  readonly packageName: string;
  /** Upstream uWebSockets.js version. */
  readonly version: string;
  /** Node ABI versions (`process.versions.modules`) it ships binaries for. */
  readonly abis: readonly string[];
}

export const UWS_BUILDS: readonly UwsBuild[] = [
  { packageName: 'uws-20-57', version: '20.57.0', abis: ['115', '127', '137', '141'] },
  { packageName: 'uws-20-30', version: '20.30.0', abis: ['115'] },
];

export class UwsUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UwsUnavailableError';
  }
}

/** The build in use, once {@link loadUws} has succeeded. */
export interface LoadedUws {
  readonly module: UwsModule;
  readonly build: UwsBuild;
}

let cached: LoadedUws | undefined;

/** True when the module's App is the native binding, not the JavaScript shim. */
export function isNativeUws(mod: { App: unknown }): boolean {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]');
}

/** The C library version the process runs on ("2.36"), or undefined off glibc. */
export function glibcVersion(): string | undefined {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return header?.glibcVersionRuntime;
}

/** "2.36" < "2.38", numerically. */
function versionBelow(version: string, floor: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = floor.split('.').map(Number);
  return a < c || (a === c && b < d);
}

/**
 * One line an operator can act on, for a machine where no pinned build loads. The usual
 * case is Node 22/24 on a glibc older than 2.38 (Debian 12, Ubuntu 22.04).
 */
export function unsupportedPlatformMessage(nodeVersion: string, abi: string, glibc: string | undefined, platform: string): string {
  const major = nodeVersion.replace(/^v/, '').split('.')[0] ?? nodeVersion;
  if (platform === 'linux' && glibc === undefined) {
    return `Herald needs a glibc Linux (uWebSockets.js has no musl build): use the container image, Debian 13 or Ubuntu 24.04`;
  }
  if (platform === 'linux' && glibc !== undefined && versionBelow(glibc, '2.38') && abi !== '115') {
    return `Node ${major} needs glibc ≥ 2.38 (this machine has ${glibc}): use the container image, Debian 13 or Ubuntu 24.04, or Node 20 here`;
  }
  return `no uWebSockets.js build loads on Node ${major} (ABI ${abi}) on ${platform}-${process.arch}${glibc ? ` with glibc ${glibc}` : ''}: Herald supports Node 20, 22 and 24 on glibc Linux (see docs/operations.md#supported-platforms)`;
}

/**
 * Tries each pinned build, newest first, and keeps the first whose native binary loads.
 * `require` is injectable so tests can play a machine where a build does not load.
 */
export function pickUws(
  requireBuild: (packageName: string) => unknown,
  abi: string = process.versions.modules,
  // The build is chosen when the first module imports uWS, before any role reads its config.
  // eslint-disable-next-line no-restricted-properties
  only: string | undefined = process.env['HERALD_UWS_BUILD'],
): LoadedUws {
  const failures: string[] = [];
  if (only !== undefined && only !== '' && !UWS_BUILDS.some((b) => b.version.startsWith(only))) {
    throw new UwsUnavailableError(`HERALD_UWS_BUILD=${only} names no pinned build (${UWS_BUILDS.map((b) => b.version).join(', ')})`);
  }
  for (const build of UWS_BUILDS) {
    if (!build.abis.includes(abi)) continue;
    // HERALD_UWS_BUILD pins one build (to compare them, or to stay on a known one).
    if (only !== undefined && only !== '' && !build.version.startsWith(only)) continue;
    let mod: unknown;
    try {
      mod = requireBuild(build.packageName);
    } catch (err) {
      failures.push(`${build.version}: ${err instanceof Error ? err.message.split('\n').filter(Boolean).pop() : String(err)}`);
      continue;
    }
    if (typeof mod === 'object' && mod !== null && 'App' in mod && isNativeUws(mod as { App: unknown })) {
      return { module: mod as UwsModule, build };
    }
    failures.push(`${build.version}: only its JavaScript fallback loaded`);
  }
  throw new UwsUnavailableError(unsupportedPlatformMessage(process.version, abi, glibcVersion(), process.platform), {
    cause: new Error(failures.join('; ') || `no pinned build ships ABI ${abi}`),
  });
}

/**
 * Largest request head (request line and headers) the 20.57 build accepts; beyond it
 * answers 431. Its own default is 4 KiB, too small for a JWT with many topic patterns in
 * `Sec-WebSocket-Protocol` or for an SSE `Last-Event-ID` carrying the positions of 200
 * channels. The 20.30 build has no such limit (uWS's 10 s idle timeout bounds a slow head).
 * The binary reads the variable once, when it loads; an operator's own value wins.
 */
export const MAX_REQUEST_HEAD_BYTES = 65_536;

/** The loaded build, for logs and metrics. */
export function loadedUws(): LoadedUws {
  if (!cached) {
    // The binary reads this variable once, while it loads: it must be set before the require.
    // eslint-disable-next-line no-restricted-properties
    process.env['UWS_HTTP_MAX_HEADERS_SIZE'] ??= String(MAX_REQUEST_HEAD_BYTES);
    const require = createRequire(import.meta.url);
    cached = pickUws((name) => require(name));
  }
  return cached;
}

/** The native uWS module; throws UwsUnavailableError when no pinned build loads natively. */
export function loadUws(): UwsModule {
  return loadedUws().module;
}
