// Several gateway instances as a deployment runs them. On PostgreSQL (the `postgres` vitest
// project) they share one database, given to each as its `store` section, while each keeps its
// own data directory; that is the real topology. On SQLite a file cannot be shared between
// machines, so each instance keeps its own store and `shareKey` copies a key into the others, as
// the shared database would hold it.
import { randomBytes } from 'node:crypto';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { hashSecret } from '../../gateway/src/governance/keys.js';
import { testStore, type TestGateway } from './gateway.js';
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
