import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig } from './load.js';
import { csv, historyConfig, port } from './fragments.js';

const schema = z.object({ PORT: port(8080), API_KEYS: csv, ...historyConfig.shape });

describe('loadConfig', () => {
  it('reads HERALD_ variables, applies defaults and freezes the result', () => {
    const c = loadConfig(schema, { HERALD_PORT: '9000', HERALD_API_KEYS: 'a, b,,c', PORT: '1', OTHER: 'x' });
    expect(c).toMatchObject({ PORT: 9000, API_KEYS: ['a', 'b', 'c'], HISTORY_SIZE: 100 });
    expect(Object.isFrozen(c)).toBe(true);
  });
  it('treats empty values as unset', () => {
    expect(loadConfig(schema, { HERALD_PORT: '', HERALD_API_KEYS: 'k' }).PORT).toBe(8080);
  });
  it('reports every problem at once, naming the variables', () => {
    try {
      loadConfig(schema, { HERALD_PORT: 'abc', HERALD_HISTORY_SIZE: '0' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues.join('\n');
      expect(issues).toContain('HERALD_PORT');
      expect(issues).toContain('HERALD_HISTORY_SIZE');
      expect(issues).toContain('HERALD_API_KEYS');
    }
  });
});
