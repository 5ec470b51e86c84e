// Unit tests of token pick-up: the same order for WebSocket upgrades and SSE requests.
import { describe, expect, it } from 'vitest';
import { pickToken } from './token.js';

describe('pickToken', () => {
  it('prefers the bearer subprotocol, then Authorization, then ?token=', () => {
    expect(pickToken({ protocol: 'herald.v1, herald.bearer.aaa', authorization: 'Bearer bbb', query: 'token=ccc' })).toBe('aaa');
    expect(pickToken({ protocol: 'herald.v1', authorization: 'bearer  bbb', query: 'token=ccc' })).toBe('bbb');
    expect(pickToken({ protocol: '', authorization: 'Basic xyz', query: 'since=1&token=ccc' })).toBe('ccc');
    expect(pickToken({ protocol: 'herald.bearer.', authorization: '', query: 'token=' })).toBeUndefined();
  });
});
