import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    // Two test files at a time: most of their time is spent waiting on servers (PostgreSQL, the
    // sandbox, Step Functions waits), and vitest's default (cores - 1) runs one file at a time here.
    maxWorkers: 2,
  },
});
