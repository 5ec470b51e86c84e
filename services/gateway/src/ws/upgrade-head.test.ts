// Unit tests of the pure upgrade choices: which subprotocol, which resume request.
import { describe, expect, it } from 'vitest';
import { parseResume, selectProtocol } from './upgrade-head.js';

describe('selectProtocol', () => {
  it('selects herald.v1 only when offered and never the bearer protocol', () => {
    expect(selectProtocol({ protocol: 'herald.bearer.x, herald.v1' })).toBe('herald.v1');
    expect(selectProtocol({ protocol: 'herald.bearer.x' })).toBe('');
    expect(selectProtocol({ protocol: '' })).toBe('');
  });
});

describe('parseResume', () => {
  it('reads since and epoch; flags an unusable since', () => {
    expect(parseResume('token=x')).toBeUndefined();
    expect(parseResume('since=42&epoch=e1')).toEqual({ valid: true, since: 42, epoch: 'e1' });
    expect(parseResume('since=0')).toEqual({ valid: true, since: 0, epoch: undefined });
    for (const q of ['since=-1', 'since=abc', 'since=1e3', 'since=99999999999999999', 'since=1&epoch=']) expect(parseResume(q), q).toEqual({ valid: false });
  });
});
