import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Suites that run against PostgreSQL too, with the same assertions (helpers/gateway.ts reads
 * GATEHOUSE_TEST_STORE): every gateway suite, and the multi-instance ones, whose instances then
 * share one database (helpers/instances.ts) as a deployment's do.
 */
const POSTGRES_SUITES = ['test/gateway/**/*.test.ts', 'test/scale/**/*.test.ts'];
/** PostgreSQL only: they stop and start a cluster of their own. */
const POSTGRES_ONLY = ['test/scale/pg-faults.test.ts'];

export default defineConfig({
  test: {
    // Suites start real servers and real clients; 2-core CI machines need headroom.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/store/**', ...POSTGRES_ONLY] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/store/**/*.test.ts', ...POSTGRES_SUITES, ...POSTGRES_ONLY],
          // One throw-away cluster per run, started only when a file of this project runs.
          globalSetup: ['test/helpers/postgres-global.ts'],
          env: { GATEHOUSE_TEST_STORE: 'postgres' },
        },
      },
    ],
  },
});
