// The run's fresh databases, from the cluster postgres-global.ts started (vitest's provide/inject).
import { inject } from 'vitest';
import { createDatabase } from './postgres.js';

/**
 * A fresh database on the run's cluster (started by postgres-global.ts), for one test file or one
 * gateway. Fails, never skips, when the file runs outside the `postgres` project.
 */
export async function testDatabase(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  if (!adminUrl) throw new Error('No PostgreSQL cluster for this run: run the file through the "postgres" vitest project (vitest.config.mts starts one with test/helpers/postgres-global.ts).');
  return createDatabase(adminUrl);
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The superuser URL of the run's throw-away cluster. */
    pgAdminUrl: string;
  }
}
