import { defineConfig } from 'vitest/config';

// Interop tests start real daemons (BIRD, FRR, gobgpd, ExaBGP); they get generous timeouts and
// each test allocates its own loopback address and ports so files can run in parallel.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/harness/summary-reporter.ts'],
  },
});
