import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Gateway suites that also run against PostgreSQL, with the same assertions (helpers/gateway.ts
 * reads GATEHOUSE_TEST_STORE).
 */
const POSTGRES_SUITES = ['logs', 'analytics', 'admin-api', 'spend', 'providers-api', 'policy-api', 'budgets', 'bodies'].map((s) => `test/gateway/${s}.test.ts`);
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
