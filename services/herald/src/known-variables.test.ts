import { describe, expect, it } from 'vitest';
import { KNOWN_VARIABLES } from '@herald/config';
import { gatewayConfigSchema } from '@herald/gateway';
import { publishApiConfigSchema } from '@herald/publish-api';

// The catalogue of @herald/config decides which HERALD_* variables are "unknown" for every
// role: a key a role schema reads but the catalogue lacks would be reported to the other role.
describe('KNOWN_VARIABLES', () => {
  it('lists every key of every role schema', () => {
    const missing = [...Object.keys(gatewayConfigSchema.shape), ...Object.keys(publishApiConfigSchema.shape)].filter((k) => !KNOWN_VARIABLES.includes(k));
    expect(missing).toEqual([]);
  });
});
