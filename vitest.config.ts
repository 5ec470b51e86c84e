// Root test configuration: `unit` tests sit beside the code, `integration` tests
// start real processes (nats-server, gateway, publish API) and live in <pkg>/test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Pool options are the run's, not a project's (vitest 3): one forks pool runs both projects.
    // - maxForks 1: integration files one at a time; a project's `fileParallelism: false` does
    //   not limit the pool (on this 2-core box it was 1 anyway: cores - 1).
    // - isolate false: a worker process is reused for the next file. Unit files then import each
    //   module once: isolated, the 87 of them spent 150 s importing and 54 s starting processes
    //   for 35 s of tests (384 s on this shared box; 31-48 s without). The integration project
    //   sets `isolate: true` below, so its modules and mocks are reset between files.
    poolOptions: { forks: { isolate: false, maxForks: 1, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 10_000,
          // All unit files first, then the integration files: never beside each other.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          isolate: true,
          sequence: { groupOrder: 1 },
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
