// Several gateway instances as a deployment runs them. On PostgreSQL (the `postgres` vitest
// project) they share one database, given to each as its `store` section, while each keeps its
// own data directory; that is the real topology. On SQLite a file cannot be shared between
// machines, so each instance keeps its own store and `shareKey` copies a key into the others, as
// the shared database would hold it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { hashSecret } from '../../gateway/src/governance/keys.js';
import { startGateway, testStore, type TestGateway } from './gateway.js';
import { testDatabase } from './postgres-test-db.js';

export interface SharedStore {
  /** Merge into every instance's config (empty on SQLite). */
  config: Record<string, unknown>;
  /** Merge into every instance's environment. */
  env: Record<string, string>;
  shared: boolean;
}

export async function sharedStore(): Promise<SharedStore> {
  if (testStore() === 'sqlite') return { config: {}, env: {}, shared: false };
  const url = await testDatabase();
  return {
    config: { store: { kind: 'postgres', url: 'env:GATEHOUSE_SHARED_DATABASE_URL', pool_size: 4 } },
    // One sealing key for all, as a deployment must give them (docs/scale-out.md).
    env: { GATEHOUSE_SHARED_DATABASE_URL: url, GATEHOUSE_SECRET_KEY: randomBytes(32).toString('base64') },
    shared: true,
  };
}

/** Creates a key through the first instance; makes it known to the others when the store is not shared. */
export async function shareKey(gws: readonly TestGateway[], store: SharedStore, body: Record<string, unknown>): Promise<KeyWithSecret> {
  const first = gws[0];
  if (!first) throw new Error('no instances');
  const k = await first.createKey(body);
  if (store.shared) return k;
  const rec = await first.runtime.store.getKey(k.id);
  if (!rec) throw new Error(`key ${k.id} vanished`);
  for (const gw of gws.slice(1)) await gw.runtime.store.createKey(rec, hashSecret(k.key), rec.prefix);
  return k;
}

export interface Pair {
  a: TestGateway;
  b: TestGateway;
  close(): Promise<void>;
}

/**
 * Two instances on one Redis and one store: on PostgreSQL they share the database and keep their
 * own data directories, as in a deployment; on SQLite one shared data directory stands in for the
 * shared database.
 */
export async function startPair(config: Record<string, unknown>, env: Record<string, string>): Promise<Pair> {
  const store = await sharedStore();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shared-'));
  const shared = store.shared ? undefined : dir;
  const start = () => startGateway({ ...config, ...store.config }, { ...env, ...store.env }, shared);
  const a = await start();
  const b = await start();
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
