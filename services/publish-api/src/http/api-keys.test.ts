// Unit tests of the Bearer API-key check.
import { describe, expect, it } from 'vitest';
import { createApiKeyCheck } from './api-keys.js';

const KEY_A = 'aaaaaaaaaaaaaaaa-key-a';
const KEY_B = 'bbbbbbbbbbbbbbbb-key-b';

describe('createApiKeyCheck', () => {
  const check = createApiKeyCheck([KEY_A, KEY_B]);

  it('returns the index of the matching key', () => {
    expect(check(`Bearer ${KEY_A}`)).toBe(0);
    expect(check(`Bearer ${KEY_B}`)).toBe(1);
  });

  it('accepts any case of the scheme and extra spaces', () => {
    expect(check(`bearer ${KEY_B}`)).toBe(1);
    expect(check(`BEARER   ${KEY_A} `)).toBe(0);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no scheme', KEY_A],
    ['other scheme', `Basic ${KEY_A}`],
    ['wrong key', 'Bearer cccccccccccccccccccccc'],
    ['prefix of a key', `Bearer ${KEY_A.slice(0, -1)}`],
    ['key plus suffix', `Bearer ${KEY_A}x`],
    ['two tokens', `Bearer ${KEY_A} ${KEY_B}`],
    ['scheme only', 'Bearer '],
    ['huge header', `Bearer ${'x'.repeat(10_000)}`],
  ])('refuses %s', (_name, header) => {
    expect(check(header)).toBeUndefined();
  });

  it('refuses an empty key list (a programming error)', () => {
    expect(() => createApiKeyCheck([])).toThrow(TypeError);
  });
});
