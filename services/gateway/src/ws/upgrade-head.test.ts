// Unit tests of the pure upgrade choices: which token, which subprotocol, which resume request.
import { describe, expect, it } from 'vitest';
import { normalizeOrigin, parseResume, pickToken, selectProtocol } from './upgrade-head.js';

describe('pickToken', () => {
  it('prefers the bearer subprotocol, then Authorization, then ?token=', () => {
    expect(pickToken({ protocol: 'herald.v1, herald.bearer.aaa', authorization: 'Bearer bbb', query: 'token=ccc' })).toBe('aaa');
    expect(pickToken({ protocol: 'herald.v1', authorization: 'bearer  bbb', query: 'token=ccc' })).toBe('bbb');
    expect(pickToken({ protocol: '', authorization: 'Basic xyz', query: 'since=1&token=ccc' })).toBe('ccc');
    expect(pickToken({ protocol: 'herald.bearer.', authorization: '', query: 'token=' })).toBeUndefined();
  });
});

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

describe('normalizeOrigin', () => {
  it('ignores case and trailing slashes', () => {
    expect(normalizeOrigin(' HTTPS://App.Example.com/ ')).toBe('https://app.example.com');
  });
});
