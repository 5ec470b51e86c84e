import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestKnown, unknownVariables, warnUnknownVariables } from './known.js';
import { ConfigError, loadConfig } from './load.js';
import { port } from './fragments.js';

describe('unknown HERALD_ variables', () => {
  it('names the closest known variable for a typo', () => {
    expect(unknownVariables({ HERALD_PROT: '80' })).toEqual([{ name: 'HERALD_PROT', suggestion: 'HERALD_PORT' }]);
    expect(unknownVariables({ HERALD_JWT_SECRT: 'x' })[0]?.suggestion).toBe('HERALD_JWT_SECRET');
    expect(unknownVariables({ HERALD_NATS_ULR: 'x' })[0]?.suggestion).toBe('HERALD_NATS_URL');
    expect(unknownVariables({ herald_port: 'x', HERALD_API_KEYS: 'k', PATH: '/bin' })).toEqual([]);
  });
  it('reports a far-off name without a suggestion, and long names without hanging', () => {
    expect(unknownVariables({ HERALD_SOMETHING_ELSE_ENTIRELY: '1' })).toEqual([{ name: 'HERALD_SOMETHING_ELSE_ENTIRELY' }]);
    expect(unknownVariables({ ['HERALD_' + 'A'.repeat(100_000)]: '1' })).toHaveLength(1);
    expect(closestKnown('FOO', ['PORT'])).toBeUndefined();
  });
  it('accepts keys of the role schema that the catalogue does not list', () => {
    expect(unknownVariables({ HERALD_BRAND_NEW: '1' }, ['BRAND_NEW'])).toEqual([]);
  });
  it('warns once per name per process', () => {
    const lines: string[] = [];
    warnUnknownVariables({ HERALD_HOTS: 'x' }, [], (l) => lines.push(l));
    warnUnknownVariables({ HERALD_HOTS: 'x' }, [], (l) => lines.push(l));
    expect(lines).toEqual(['HERALD_HOTS: not a Herald variable (did you mean HERALD_HOST?); ignored']);
  });
  it('leaves a name the first, wider check knew alone in a later, narrower one', () => {
    const lines: string[] = [];
    warnUnknownVariables({ HERALD_OTHER_ROLE_KEY: 'x' }, ['OTHER_ROLE_KEY'], (l) => lines.push(l));
    warnUnknownVariables({ HERALD_OTHER_ROLE_KEY: 'x' }, [], (l) => lines.push(l));
    expect(lines).toEqual([]);
  });
  it('loadConfig makes them issues in error mode, with the other issues', () => {
    const schema = z.object({ PORT: port(8080) });
    expect(loadConfig(schema, { HERALD_PROTT: '1' }, { unknownVariables: 'ignore' }).PORT).toBe(8080);
    try {
      loadConfig(schema, { HERALD_PORT: 'x', HERALD_PROTT: '1' }, { unknownVariables: 'error' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues).toHaveLength(2);
      expect((err as ConfigError).issues[1]).toBe('HERALD_PROTT: not a Herald variable (did you mean HERALD_PORT?)');
    }
  });
});

describe('busChoiceIssues', () => {
  it('refuses a gateway without NATS unless the memory bus is asked for', async () => {
    const { busChoiceIssues } = await import('./bus-choice.js');
    expect(busChoiceIssues('gateway', {})[0]).toMatch(/^HERALD_NATS_URL: a gateway needs NATS/);
    expect(busChoiceIssues('gateway', { HERALD_BUS: 'memory' })).toEqual([]);
    expect(busChoiceIssues('gateway', { HERALD_NATS_URL: 'nats://n:4222' })).toEqual([]);
    expect(busChoiceIssues('dev', {})).toEqual([]);
    expect(busChoiceIssues('publish-api', { HERALD_BUS: 'nats' })[0]).toMatch(/^HERALD_BUS: nats needs/);
    expect(busChoiceIssues('dev', { HERALD_BUS: 'memory', HERALD_NATS_URL: 'nats://n:4222' })[0]).toMatch(/contradicts/);
  });
});
