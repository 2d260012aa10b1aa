// vitest globalSetup of the `postgres` project: one throw-away cluster for the whole run; each
// test file makes its own database on it (postgres-test-db.ts `testDatabase`).
import type { TestProject } from 'vitest/node';
import { PgCluster } from './postgres.js';

export default async function setup(project: TestProject): Promise<() => void> {
  const started = Date.now();
  const cluster = await PgCluster.create();
  console.warn(`postgres test cluster on 127.0.0.1:${cluster.port} ready in ${Date.now() - started} ms (${cluster.dir})`);
  project.provide('pgAdminUrl', cluster.adminUrl);
  return () => cluster.destroy();
}
