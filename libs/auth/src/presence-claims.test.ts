// The presence claims: `presence` (topic patterns whose members a token may read) and `info`
// (a JSON object of at most MAX_INFO_BYTES, shown with the user in member lists).
import { describe, expect, it } from 'vitest';
import { SECRET } from '../test/helpers.js';
import { signToken } from './sign.js';
import { createTokenVerifier, MAX_INFO_BYTES } from './verify.js';

const verifier = createTokenVerifier({ hmacSecret: SECRET });
const tok = (extra: Record<string, unknown>) => signToken({ secret: SECRET, sub: 'u', topics: ['>'], ttlSec: 60, extra });

describe('presence claims', () => {
  it('reads `presence` patterns and `info`', async () => {
    const v = await verifier.verify(await tok({ presence: ['room.*'], info: { name: 'Ada' } }));
    expect(v.presence?.allows('room.1')).toBe(true);
    expect(v.presence?.allows('news')).toBe(false);
    expect(v.info).toEqual({ name: 'Ada' });
    const none = await verifier.verify(await tok({}));
    expect(none.presence).toBeUndefined();
    expect(none.info).toBeUndefined();
  });

  it('refuses an `info` that is not an object or is too large, and a `presence` that is not an array', async () => {
    for (const extra of [{ info: 'x' }, { info: [1] }, { info: { s: 'x'.repeat(MAX_INFO_BYTES) } }, { presence: 'room.*' }]) {
      await expect(verifier.verify(await tok(extra))).rejects.toMatchObject({ code: 'claims_invalid' });
    }
  });
});
