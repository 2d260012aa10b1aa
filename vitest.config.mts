import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Suites start real servers and real clients; 2-core CI machines need headroom.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
