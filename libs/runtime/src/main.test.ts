// Unit tests of the shared start-up failure text and the default node id.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@herald/config';
import { defaultNodeId } from './run-role.js';
import { startupFailureText } from './main.js';

describe('startupFailureText', () => {
  it('lists every configuration issue on its own line', () => {
    expect(startupFailureText('publish-api', new ConfigError(['HERALD_PORT: bad', 'HERALD_API_KEYS: required']))).toBe(
      'publish-api: invalid configuration\n  - HERALD_PORT: bad\n  - HERALD_API_KEYS: required\n',
    );
  });

  it('prints any other failure as one line with its message', () => {
    expect(startupFailureText('herald gateway', new Error('listen EADDRINUSE'))).toBe('herald gateway: failed to start: listen EADDRINUSE\n');
    expect(startupFailureText('herald gateway', 'odd')).toBe('herald gateway: failed to start: odd\n');
  });
});

describe('defaultNodeId', () => {
  it('is hostname-pid', () => {
    expect(defaultNodeId()).toMatch(new RegExp(`-${process.pid}$`));
  });
});
