// Root test configuration: `unit` tests sit beside the code, `integration` tests
// start real processes (nats-server, gateway, publish API) and live in <pkg>/test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['libs/*/test/**/*.int.test.ts', 'services/*/test/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Integration files start servers and processes: run files one at a time on this 2-core box.
          fileParallelism: false,
        },
      },
    ],
  },
});
