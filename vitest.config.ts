// Root test configuration: `unit` tests sit beside the code, `integration` tests
// start real processes (nats-server, gateway, publish API) and live in <pkg>/test.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    // Pool options at this level are the run's, not a project's (vitest 3): one forks pool runs
    // both projects, and a project's `fileParallelism: false` does not limit it. maxForks 1 keeps
    // the integration files one at a time (on this 2-core box it was 1 anyway: cores - 1).
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts'],
          testTimeout: 10_000,
          // All unit files in one process that imports each module once (singleFork, no module
          // reset between files). Isolated, the 87 files spent 150 s importing and 54 s starting
          // processes for 35 s of tests: 384 s on this shared 2-core box; ~30 s this way.
          poolOptions: { forks: { singleFork: true, isolate: false } },
          // All unit files first, then the integration files: never beside each other.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          // Each integration file keeps a fresh process (the pool's default isolation): a timer
          // or socket one file leaves behind must not fire in the next.
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
