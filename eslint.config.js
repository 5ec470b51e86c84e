// Lint: typescript-eslint's recommended rules, plus the project's own: only a
// service's main.ts (and CLI entry) reads process.env, and no `any` in code.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', 'loadtest/k6/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration in main.ts and pass it down.' }],
    },
  },
  {
    files: ['**/src/main.ts', 'services/herald/src/**', '**/*.test.ts', '**/test/**', 'libs/testkit/**', 'loadtest/**', 'scripts/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
