import { describe, expect, it } from 'vitest';
import { loadedUws, pickUws, unsupportedPlatformMessage, UwsUnavailableError } from './load.js';

// A native function stands in for a binding's App: only its `[native code]` source matters to the check.
const nativeBuild = { App: Math.max };
const shimBuild = { App: function App() {} };
const glibcTooOld = () => {
  throw new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found");
};

describe('pickUws', () => {
  it('takes the newest build when it loads', () => {
    expect(pickUws(() => nativeBuild, '137').build.version).toBe('20.57.0');
    expect(pickUws(() => nativeBuild, '115').build.version).toBe('20.57.0');
  });

  it('falls back to 20.30 on Node 20 when the newest build needs a newer glibc', () => {
    const loaded = pickUws((name) => (name === 'uws-20-57' ? glibcTooOld() : nativeBuild), '115');
    expect(loaded.build.version).toBe('20.30.0');
  });

  it('never uses 20.30 on Node 22 or 24, whose ABI it does not ship', () => {
    const tried: string[] = [];
    expect(() =>
      pickUws((name) => {
        tried.push(name);
        return name === 'uws-20-57' ? glibcTooOld() : nativeBuild;
      }, '137'),
    ).toThrow(UwsUnavailableError);
    expect(tried).toEqual(['uws-20-57']);
  });

  it('refuses a JavaScript fallback and says why in the cause', () => {
    let error: unknown;
    try {
      pickUws((name) => (name === 'uws-20-57' ? glibcTooOld() : shimBuild), '115');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UwsUnavailableError);
    expect(String((error as Error).cause)).toMatch(/GLIBC_2\.38.*20\.30\.0: only its JavaScript fallback loaded/);
  });

  it('loads a native build on this machine', () => {
    const loaded = loadedUws();
    expect(['20.57.0', '20.30.0']).toContain(loaded.build.version);
    expect(typeof loaded.module.App).toBe('function');
  });
});

describe('unsupportedPlatformMessage', () => {
  it('names the glibc requirement for Node 22/24 on an older glibc', () => {
    expect(unsupportedPlatformMessage('v24.11.0', '137', '2.36', 'linux')).toBe(
      'Node 24 needs glibc ≥ 2.38 (this machine has 2.36): use the container image, Debian 13 or Ubuntu 24.04, or Node 20 here',
    );
    expect(unsupportedPlatformMessage('v22.1.0', '127', '2.35', 'linux')).toMatch(/^Node 22 needs glibc ≥ 2\.38/);
  });

  it('names musl and unknown runtimes plainly', () => {
    expect(unsupportedPlatformMessage('v24.0.0', '137', undefined, 'linux')).toMatch(/musl/);
    expect(unsupportedPlatformMessage('v26.0.0', '147', '2.41', 'linux')).toMatch(/Herald supports Node 20, 22 and 24/);
  });
});

describe('HERALD_UWS_BUILD', () => {
  it('pins one build, and refuses a name that is not pinned', () => {
    expect(pickUws(() => nativeBuild, '115', '20.30').build.version).toBe('20.30.0');
    expect(pickUws(() => nativeBuild, '115', '').build.version).toBe('20.57.0');
    expect(() => pickUws(() => nativeBuild, '115', '19.0')).toThrow(/names no pinned build/);
    expect(() => pickUws(() => nativeBuild, '137', '20.30')).toThrow(UwsUnavailableError);
  });
});
