import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    reporters: ['default', './test/summary-reporter.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ['./test/global-setup.ts'],
    // One libtorch thread in tests (and the processes they spawn): two test files run at once, and
    // training defaults to every core otherwise (oversubscribed OpenMP threads crawl).
    env: { HFPL_THREADS: '1' },
  },
});
