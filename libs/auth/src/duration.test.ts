// Unit tests for duration.ts.
import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['45s', 45], ['30m', 1800], ['1h', 3600], ['2d', 172_800], ['3600', 3600], ['0', 0], ['0s', 0], ['007m', 420],
  ])('%j is %d seconds', (input, seconds) => expect(parseDuration(input)).toBe(seconds));

  it.each(['', ' 1h', '1h ', '1H', '1.5h', '-1h', '+5', 'h', '1hm', '1h30m', '1w', '1 h', 'abc', '9999999999999999'])(
    'rejects %j with a TypeError',
    (input) => expect(() => parseDuration(input)).toThrow(TypeError),
  );

  it('rejects results beyond a safe integer', () => {
    expect(() => parseDuration('999999999999999d')).toThrow(TypeError);
  });

  it('rejects non-strings', () => {
    expect(() => parseDuration(3600 as unknown as string)).toThrow(TypeError);
  });
});
